/**
 * Shared fixture for the guest tests: runs the real guest daemon as a child process (optionally
 * behind tini, as in a sandbox) on a free loopback port with a temp config and temp home dirs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GuestConfigInput } from '../../src/guest/config.ts';
import { createGuestClient, type GuestClient } from '../../src/envd/client.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TINI = '/usr/bin/tini-static';
/**
 * The native guest (crates/guest) to test in place of the TypeScript one, when set: the same
 * tests hold both to the same protocol (crates/guest/README.md).
 */
export const GUEST_BIN = process.env.AGENTBOX_TEST_GUEST_BIN;

export interface RunningGuest {
  url: string;
  port: number;
  /** PID of the first process started (tini when behind tini, else node). */
  pid: number;
  dir: string;
  client: GuestClient;
  accessToken: string;
  initSecret: string;
  /** execd's base URL when the config asked for it (`execdPort`). */
  execdUrl?: string;
  logs: string[];
  stop(): Promise<void>;
}

export interface GuestOptions {
  config?: Partial<GuestConfigInput>;
  /** Run behind tini as in a sandbox (default when tini is installed), so orphans are reaped. */
  tini?: boolean;
  /** Omit the access token (open guest). */
  open?: boolean;
  /** Extra environment for the guest process. */
  env?: Record<string, string>;
}

export async function startGuest(opts: GuestOptions = {}): Promise<RunningGuest> {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-guest-'));
  const accessToken = 'token-' + Math.random().toString(36).slice(2);
  const initSecret = 'secret-' + Math.random().toString(36).slice(2);
  const config: GuestConfigInput = {
    port: 0,
    host: '127.0.0.1',
    initSecret,
    envVars: { SANDBOX_WIDE: 'yes' },
    ...(opts.open ? {} : { accessToken }),
    ...opts.config,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const guest = GUEST_BIN ? [GUEST_BIN] : [process.execPath, '--import', 'tsx', join(ROOT, 'src/guest/main.ts')];
  const argv = (opts.tini ?? existsSync(TINI)) ? [TINI, '-s', '-g', '--', ...guest] : guest;
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, AGENTBOX_GUEST_CONFIG: join(dir, 'config.json') },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const logs: string[] = [];
  let execdPort: number | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`guest did not start in 20 s:\n${logs.join('\n')}`)), 20_000);
    let buf = '';
    child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        try {
          const rec = JSON.parse(line) as { msg?: string; port?: number };
          if (rec.msg === 'execd listening') execdPort = rec.port;
          if (rec.msg === 'guest listening' && rec.port) { clearTimeout(timer); resolve(rec.port); }
        } catch { /* not a log record */ }
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`guest exited ${code}:\n${logs.join('\n')}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const client = createGuestClient({ url, accessToken: opts.open ? undefined : accessToken });
  return {
    url, port, pid: child.pid!, dir, client, accessToken, initSecret, logs,
    execdUrl: execdPort === undefined ? undefined : `http://127.0.0.1:${execdPort}`,
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback port that was free a moment ago (for servers that must be told their port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}
