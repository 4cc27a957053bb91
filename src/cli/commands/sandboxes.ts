/** `create`, `ls`, `exec`, `pause`, `resume`, `kill`: sandboxes from the terminal. */
import { once } from 'node:events';
import { constants } from 'node:os';
import { signalOfStatus } from '../../api/envd-protocol.ts';
import { MAX_EXEC_STDIN, type ExecEvent, type SandboxListView, type SandboxView } from '../../api/native.ts';
import { ApiClient } from '../../sdk/api-client.ts';
import { resolveConnection } from '../../sdk/config.ts';
import { errorFromBody } from '../../sdk/errors.ts';
import { flagsOf } from '../command-table.ts';
import { pairs, parseFlags, print, UsageError, type CliIo, type Command } from '../io.ts';

export const client = (io: CliIo) => new ApiClient(resolveConnection({}, io.env));

const oneId = (positionals: string[], usage: string): string => {
  if (positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
  return positionals[0]!;
};

export const create: Command = async (args, io) => {
  const { flags, multi, bools, positionals } = parseFlags(args, flagsOf('create'));
  if (positionals.length) throw new UsageError('usage: agentbox create [--template T] [--runtime R] [--env K=V] [--metadata K=V] [--timeout SECONDS] [--on-timeout kill|pause] [--auto-resume] [--volume NAME:PATH] [--json]');
  const body: Record<string, unknown> = { template: flags.template ?? 'base' };
  if (flags.runtime) body.runtime = flags.runtime;
  if (flags.timeout) body.timeoutSeconds = Number(flags.timeout);
  if (flags['on-timeout']) body.onTimeout = flags['on-timeout'];
  if (bools.has('auto-resume')) body.autoResume = true;
  const env = pairs(multi.env, '--env');
  if (env) body.env = env;
  const metadata = pairs(multi.metadata, '--metadata');
  if (metadata) body.metadata = metadata;
  if (multi.volume?.length) body.volumes = multi.volume.map(volumeMount);
  const sbx = await client(io).json<SandboxView>('POST', '/v1/sandboxes', { json: body, timeoutMs: 0 });
  if (bools.has('json')) { print(io, JSON.stringify(sbx)); return 0; }
  print(io, sbx.id);
  // On stderr, so `id=$(agentbox create)` still captures the id alone.
  io.stderr.write(`${expiryNote(sbx)}\n`);
  return 0;
};

/** `--volume data:/mnt/data` → {name, path}; the server checks both. */
function volumeMount(arg: string): { name: string; path: string } {
  const at = arg.indexOf(':');
  if (at <= 0) throw new UsageError(`--volume takes NAME:PATH, not '${arg}'`);
  return { name: arg.slice(0, at), path: arg.slice(at + 1) };
}

/** "5m", "1h30m", "45s". */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

/** When a sandbox's timeout acts and what it does then, so no sandbox disappears without a word. */
function expiryNote(sbx: SandboxView): string {
  const then = sbx.onTimeout === 'kill' ? 'killed' : 'paused';
  const when = sbx.expiresAt ? ` at ${sbx.expiresAt}` : '';
  return `sandbox ${sbx.id} is ${then} after ${duration(sbx.timeoutSeconds)}${when}; \`agentbox timeout ${sbx.id} SECONDS\` changes it`;
}

/** `timeout ID SECONDS`: restarts the sandbox's timer at SECONDS from now. */
export const timeout: Command = async (args, io) => {
  const { positionals } = parseFlags(args, flagsOf('timeout'));
  const seconds = Number(positionals[1]);
  if (positionals.length !== 2 || !Number.isInteger(seconds) || seconds <= 0) throw new UsageError('usage: agentbox timeout ID SECONDS');
  const sbx = await client(io).json<SandboxView>('POST', `/v1/sandboxes/${positionals[0]}/timeout`, { json: { timeoutSeconds: seconds } });
  print(io, expiryNote(sbx));
  return 0;
};

export const ls: Command = async (args, io) => {
  const { flags, multi, bools, positionals } = parseFlags(args, flagsOf('ls'));
  if (positionals.length) throw new UsageError('usage: agentbox ls [--state S] [--metadata K=V] [--template T] [--json | --quiet]');
  const api = client(io);
  const all: SandboxView[] = [];
  let nextToken: string | undefined;
  const metadata = pairs(multi.metadata, '--metadata');
  const metaQuery = metadata ? Object.entries(metadata).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&') : undefined;
  for (let page = 0; page < 10_000; page++) {
    const res = await api.json<SandboxListView>('GET', '/v1/sandboxes', { query: { limit: 1000, nextToken, state: flags.state, template: flags.template, metadata: metaQuery } });
    all.push(...res.sandboxes);
    nextToken = res.nextToken;
    if (!nextToken) break;
  }
  if (bools.has('json')) { print(io, JSON.stringify(all)); return 0; }
  if (bools.has('quiet')) { for (const s of all) print(io, s.id); return 0; }
  const rows = [['ID', 'TEMPLATE', 'STATE', 'CREATED', 'EXPIRES', 'METADATA'], ...all.map((s) => [
    s.id, s.template, s.state, s.createdAt, s.expiresAt ?? '-', Object.entries(s.metadata).map(([k, v]) => `${k}=${v}`).join(',') || '-',
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) print(io, r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return 0;
};

/** All of standard input; more bytes than the API takes (MAX_EXEC_STDIN) are a usage error. */
async function readStdin(stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buf.length;
    if (size > MAX_EXEC_STDIN) throw new UsageError(`standard input is over ${MAX_EXEC_STDIN / 1024 / 1024} MiB; copy the data in with \`agentbox cp\` and redirect the command's input from that file`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Writes and, while the terminal or pipe has not taken it, reads no more: the command waits instead of the CLI's memory filling. */
async function writeOut(to: NodeJS.WritableStream, data: Buffer): Promise<void> {
  if (!to.write(data)) await once(to, 'drain');
}

/** A shell's exit code for a command ended by a signal: 128 + its number (137, killed, when the status names none). */
function signalExitCode(status: string | undefined): number {
  const sig = status === undefined ? undefined : signalOfStatus(status);
  return 128 + ((sig && constants.signals[sig]) || constants.signals.SIGKILL);
}

/** `exec ID -- CMD…`: streams output and exits with the command's exit code; `-i` sends standard input. */
export const exec: Command = async (args, io) => {
  const dash = args.indexOf('--');
  const head = dash < 0 ? args.slice(0, 1) : args.slice(0, dash);
  const cmd = dash < 0 ? args.slice(1) : args.slice(dash + 1);
  const { flags, multi, bools, positionals } = parseFlags(head, flagsOf('exec'));
  if (positionals.length !== 1 || cmd.length === 0) throw new UsageError('usage: agentbox exec ID [-i] [--cwd DIR] [--user U] [--env K=V] -- CMD [ARGS…]');
  // Bytes both ways, as a pipe would carry them: `exec ID -- cat img.png > img.png` is a copy.
  const body: Record<string, unknown> = { cmd: cmd.length === 1 ? cmd[0] : cmd, encoding: 'base64' };
  if (flags.cwd) body.cwd = flags.cwd;
  if (flags.user) body.user = flags.user;
  if (flags['timeout-ms']) body.timeoutMs = Number(flags['timeout-ms']);
  const env = pairs(multi.env, '--env');
  if (env) body.env = env;
  if (bools.has('stdin')) body.stdin = (await readStdin(io.stdin)).toString('base64');
  for await (const ev of client(io).ndjson<ExecEvent>('POST', `/v1/sandboxes/${positionals[0]}/exec`, { json: body })) {
    if (ev.type === 'stdout') await writeOut(io.stdout, Buffer.from(ev.data, 'base64'));
    else if (ev.type === 'stderr') await writeOut(io.stderr, Buffer.from(ev.data, 'base64'));
    else if (ev.type === 'error') throw errorFromBody(0, ev);
    else return ev.exitCode < 0 ? signalExitCode(ev.status) : ev.exitCode;
  }
  throw new UsageError('the exec stream ended without a result');
};

const action = (verb: 'pause' | 'resume'): Command => async (args, io) => {
  const id = oneId(parseFlags(args, flagsOf(verb)).positionals, `agentbox ${verb} ID`);
  const sbx = await client(io).json<SandboxView>('POST', `/v1/sandboxes/${id}/${verb}`, { timeoutMs: 0 });
  print(io, `${sbx.id} ${sbx.state}`);
  return 0;
};
export const pause = action('pause');
export const resume = action('resume');

export const kill: Command = async (args, io) => {
  const id = oneId(parseFlags(args, flagsOf('kill')).positionals, 'agentbox kill ID');
  await client(io).request('DELETE', `/v1/sandboxes/${id}`);
  print(io, `${id} killed`);
  return 0;
};
