/**
 * An "outside world" for egress tests: a network namespace this test creates, joined to the
 * host by a veth pair, running outside-host.mjs (HTTP on :8080 answering `outside <address>`).
 * Nothing leaves this machine:
 *
 * - its own addresses are a slice of 198.51.100.0/24 (documentation range) per test lane, on
 *   the link;
 * - `extra` addresses (e.g. 169.254.169.254, 172.16.9.9) are also bound inside, and routed
 *   there only for packets from `routeFrom` (the test engine's sandbox subnet) through a
 *   policy-routing table of this lane, so the host's own traffic to those addresses is
 *   untouched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { runCommand } from '../../src/engine/command.ts';
import { TEST_LANE } from '../support/test-network.ts';

export interface OutsideNet {
  ns: string;
  /** The host side of the link: an address of the host. */
  hostIp: string;
  /** Public-looking addresses inside (HTTP on :8080 on each). */
  ips: string[];
  /** Runs a command inside the namespace; stdout trimmed. */
  exec(argv: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface OutsideNetOptions {
  /** Distinguishes two outside nets of one lane (0-3). */
  index: number;
  /** DNS names the namespace's own resolver on :53 serves (outside-host.mjs). */
  names?: Record<string, string>;
  extra?: string[];
  routeFrom?: string;
}

/** Address `n` (1-6) of outside net `index` in this lane: a /29 each; 1-3 inside, 6 the host. */
export const outsideIp = (index: number, n: number) => `198.51.100.${TEST_LANE * 32 + index * 8 + n}`;

export async function createOutsideNet(opts: OutsideNetOptions): Promise<OutsideNet> {
  const ip = (n: number) => outsideIp(opts.index, n);
  const ns = `abt-out-${TEST_LANE}-${opts.index}`;
  const hostIf = `abto${TEST_LANE}${opts.index}`;
  const table = String(5100 + TEST_LANE * 4 + opts.index);
  const ips = [ip(1), ip(2), ip(3)];
  const undo = async () => {
    if (opts.routeFrom) await runCommand('ip', ['rule', 'del', 'from', opts.routeFrom, 'lookup', table]).catch(() => undefined);
    await runCommand('ip', ['route', 'flush', 'table', table]).catch(() => undefined);
    await runCommand('ip', ['netns', 'del', ns]).catch(() => undefined);
    await runCommand('ip', ['link', 'del', hostIf]).catch(() => undefined);
  };
  await undo();
  const batch = [
    `netns add ${ns}`,
    `link add ${hostIf} type veth peer name eth0 netns ${ns}`,
    `addr add ${ip(6)}/29 dev ${hostIf}`,
    `link set ${hostIf} up`,
    ...(opts.extra ?? []).map((x) => `route add ${x}/32 dev ${hostIf} table ${table}`),
    ...(opts.routeFrom && opts.extra?.length ? [`rule add from ${opts.routeFrom} lookup ${table}`] : []),
  ];
  await runCommand('ip', ['-batch', '-'], { input: batch.join('\n') + '\n' });
  // Replies to sandboxes arrive here and must be forwarded (the engine turns forwarding on
  // for its own links only).
  await writeFile(`/proc/sys/net/ipv4/conf/${hostIf}/forwarding`, '1');
  const inside = [
    ...ips.map((a) => `addr add ${a}/29 dev eth0`),
    ...(opts.extra ?? []).map((x) => `addr add ${x}/32 dev eth0`),
    'link set eth0 up', 'link set lo up', `route add default via ${ip(6)}`,
  ];
  await runCommand('ip', ['-n', ns, '-batch', '-'], { input: inside.join('\n') + '\n' });
  const server: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, new URL('./outside-host.mjs', import.meta.url).pathname, JSON.stringify(opts.names ?? {})], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.once('data', () => resolve());
    server.once('exit', (code) => reject(new Error(`outside host exited ${code}`)));
  });
  return {
    ns,
    hostIp: ip(6),
    ips,
    exec: async (argv) => (await runCommand('ip', ['netns', 'exec', ns, ...argv])).stdout.trim(),
    async close() {
      if (server.pid && server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      await undo();
    },
  };
}
