// Runs `agentbox operator` (src/k8s/cli.ts) as a child process for tests; stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { KUBECONFIG } from './harness.ts';

const root = new URL('../..', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface OperatorProc { child: ChildProcess; metrics: number; health: number; stderr: string[] }

export async function startOperatorProcess(ns: string, extraFlags: string[]): Promise<OperatorProc> {
  const metrics = await freePort();
  const health = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/k8s/fixtures/operator-main.ts'),
    '--kubeconfig', KUBECONFIG, '--namespace', ns, '--extensions',
    `--metrics-bind-address=127.0.0.1:${metrics}`, `--health-probe-bind-address=127.0.0.1:${health}`, ...extraFlags],
  { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  return { child, metrics, health, stderr };
}

export function stopOperatorProcess(p: OperatorProc): Promise<number | null> {
  return new Promise((r) => {
    if (p.child.exitCode !== null) { r(p.child.exitCode); return; }
    p.child.once('exit', (code) => r(code));
    p.child.kill('SIGTERM');
  });
}
