/** `logs`, `events` and `top`: what a sandbox says, what happened to it, and what it uses. */
import type { SandboxListView, SandboxUsageView, SandboxView } from '../../api/native.ts';
import { cpuPercent } from '../../api/usage.ts';
import type { ApiClient } from '../../sdk/api-client.ts';
import { sandboxEvents } from '../../sdk/events.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, print, UsageError, type Command } from '../io.ts';
import { client } from './sandboxes.ts';

/** `logs ID [-f]`: the sandbox's console (guest log and start command output), followed with -f. */
export const logs: Command = async (args, io) => {
  const { bools, positionals } = parseFlags(args, flagsOf('logs'));
  if (positionals.length !== 1) throw new UsageError('usage: agentbox logs ID [-f|--follow]');
  const res = await client(io).request('GET', `/v1/sandboxes/${positionals[0]}/logs`, { query: { follow: bools.has('follow') ? 'true' : undefined }, timeoutMs: 0 });
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) io.stdout.write(chunk);
  return 0;
};

/** `events [ID] [-f] [--json]`: lifecycle events, one line each (oldest first); -f keeps printing new ones. */
export const events: Command = async (args, io) => {
  const { bools, positionals } = parseFlags(args, flagsOf('events'));
  if (positionals.length > 1) throw new UsageError('usage: agentbox events [ID] [-f|--follow] [--json]');
  const stream = sandboxEvents(client(io), { ...(positionals[0] ? { sandboxId: positionals[0] } : {}), follow: bools.has('follow') });
  for await (const e of stream) {
    const reason = e.data.reason ? ` (${e.data.reason})` : '';
    io.stdout.write(bools.has('json') ? `${JSON.stringify(e)}\n` : `${e.timestamp}  ${e.type.replace('sandbox.lifecycle.', '').padEnd(8)} ${e.sandboxId}  ${e.template}${reason}\n`);
  }
  return 0;
};

interface Sample { at: number; usage: Map<string, SandboxUsageView> }

/** One look at every running sandbox's cgroup. A sandbox that stops between the list and its read is left out. */
async function sample(api: ApiClient, running: SandboxView[]): Promise<Sample> {
  const at = Date.now();
  const usage = new Map<string, SandboxUsageView>();
  await Promise.all(running.map(async (s) => {
    const u = await api.json<SandboxUsageView>('GET', `/v1/sandboxes/${s.id}/usage`).catch(() => undefined);
    if (u) usage.set(s.id, u);
  }));
  return { at, usage };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)}M`;

/** The table of one refresh; CPU% is the growth of CPU time between `before` and `now` (src/api/usage.ts). */
export function topTable(sandboxes: SandboxView[], now: Sample, before: Sample): string[] {
  const rows = [['ID', 'TEMPLATE', 'STATE', 'CPU%', 'CPU TIME', 'MEMORY', 'LIMIT', 'PIDS', 'DISK']];
  for (const s of sandboxes) {
    const u = now.usage.get(s.id);
    const prev = before.usage.get(s.id);
    const percent = u && prev ? cpuPercent({ cpuNanos: prev.cpuNanos, atMs: before.at }, { cpuNanos: u.cpuNanos, atMs: now.at }) : undefined;
    const cpu = percent === undefined ? '-' : percent.toFixed(1);
    rows.push([
      s.id, s.template, s.state, cpu, u ? `${(u.cpuNanos / 1e9).toFixed(1)}s` : '-', u ? mib(u.memoryBytes) : '-', `${s.memoryMiB}M`,
      u ? String(u.pids) : '-', u?.disk ? `${mib(u.disk.usedBytes)}/${mib(u.disk.limitBytes)}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

/**
 * `top [--once] [--interval SECONDS]`: CPU, memory, pids and disk per sandbox, from each running
 * sandbox's cgroup. On a terminal it refreshes until Ctrl-C; with --once, or when stdout is not
 * a terminal, it prints one table (two samples one interval apart, for CPU%) and ends.
 */
export const top: Command = async (args, io) => {
  const { flags, bools, positionals } = parseFlags(args, flagsOf('top'));
  const interval = Number(flags.interval ?? 2);
  if (positionals.length || !(interval > 0)) throw new UsageError('usage: agentbox top [--once] [--interval SECONDS]');
  const api = client(io);
  const once = bools.has('once') || !(io.stdout as { isTTY?: boolean }).isTTY;
  const list = async () => (await api.json<SandboxListView>('GET', '/v1/sandboxes', { query: { limit: 1000, state: 'running,paused' } })).sandboxes;
  let sandboxes = await list();
  let before = await sample(api, sandboxes.filter((s) => s.state === 'running'));
  for (;;) {
    await new Promise((r) => setTimeout(r, interval * 1000));
    const now = await sample(api, sandboxes.filter((s) => s.state === 'running'));
    const table = topTable(sandboxes, now, before);
    if (once) { for (const line of table) print(io, line); return 0; }
    // Home and clear, then the table: a refresh in place, as top(1) does.
    io.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString()}  ${sandboxes.length} sandboxes (Ctrl-C to quit)\n\n${table.join('\n')}\n`);
    sandboxes = await list();
    before = now;
  }
};
