/**
 * The server as a child process, for tests that SIGKILL it and start it again on the same home:
 * over the REAL engine (real-server-main.ts) or over the FAKE one (fake-server-main.ts). Each
 * main prints one JSON line {url, key, recovery} once it listens.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/engine/command.ts';
import { createEngine } from '../../src/engine/index.ts';
import type { RecoveryReport } from '../../src/server/recovery.ts';
import { exited, spawnAndReadFirstLine } from './child-process.ts';
import { testNetwork } from './test-network.ts';

const realMain = new URL('./real-server-main.ts', import.meta.url).pathname;
const fakeMain = new URL('./fake-server-main.ts', import.meta.url).pathname;

export interface ServerProcess { child: ChildProcess; url: string; key: string; recovery: RecoveryReport }

async function boot(main: string, args: string[], timeoutMs: number): Promise<ServerProcess> {
  const { child, line } = await spawnAndReadFirstLine('the server process', process.execPath, ['--import', 'tsx', main, ...args], { timeoutMs });
  return { child, ...(JSON.parse(line) as Omit<ServerProcess, 'child'>) };
}

/** Starts the server over the real engine on `home` with test network `net`; resolves once it listens. */
export function bootServerProcess(home: string, net: number, runtime: 'runc' | 'gvisor' = 'runc'): Promise<ServerProcess> {
  return boot(realMain, [home, String(net), runtime], 180_000);
}

/** Starts the server over the fake engine on `home`, each sandbox start taking `startDelayMs`. */
export function bootFakeServerProcess(home: string, startDelayMs = 0): Promise<ServerProcess> {
  return boot(fakeMain, [home, String(startDelayMs)], 20_000);
}

/** SIGKILLs the server process and waits until it is gone. */
export async function killServerProcess(s: ServerProcess | undefined): Promise<void> {
  if (!s) return;
  s.child.kill('SIGKILL');
  await exited(s.child);
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
