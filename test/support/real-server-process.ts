/**
 * The real server over the real engine (runc) as a child process, for tests that SIGKILL it
 * (real-server-main.ts): boot it on a home, kill it, boot it again on the same home.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCommand } from '../../src/engine/command.ts';
import { createEngine } from '../../src/engine/index.ts';
import type { RecoveryReport } from '../../src/server/recovery.ts';
import { testNetwork } from './test-network.ts';

const main = new URL('./real-server-main.ts', import.meta.url).pathname;

export interface ServerProcess { child: ChildProcess; url: string; key: string; recovery: RecoveryReport }

/** Starts the server on `home` with test network `net`; resolves once it listens. */
export async function bootServerProcess(home: string, net: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, home, String(net)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start in 120 s')), 120_000);
    createInterface({ input: child.stdout! }).once('line', (l) => { clearTimeout(t); resolve(l); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`server exited ${code}`)); });
  });
  return { child, ...(JSON.parse(line) as Omit<ServerProcess, 'child'>) };
}

/** SIGKILLs the server process and waits until it is gone. */
export async function killServerProcess(s: ServerProcess | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode) return;
  const gone = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGKILL');
  await gone;
}

/** Removes whatever the server processes left on `home`: sandboxes, nftables table, files. */
export async function removeServerHome(home: string, net: number): Promise<void> {
  const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: 'runc', network: testNetwork(net) }).catch(() => undefined);
  if (created) {
    for (const s of created.engine.list()) await created.engine.destroy(s.id).catch(() => undefined);
    await created.engine.close();
  }
  await runCommand('nft', ['delete', 'table', 'inet', testNetwork(net).table]).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
}
