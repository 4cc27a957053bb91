// Starts/stops the runtime fixture process (by the PID we started, never by name).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** `stop` ends the process and removes `baseDir`. */
export interface RuntimeProcess { host: string; port: number; baseDir: string; stop(): Promise<void> }

export async function startRuntimeProcess(host: string, port = 8888): Promise<RuntimeProcess> {
  const baseDir = mkdtempSync(join(tmpdir(), 'agentbox-rt-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/k8s/fixtures/runtime-main.ts'), host, String(port), baseDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const actual = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('runtime process did not start in 20s')), 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      const m = /ready (\d+)/.exec(b.toString());
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(t); reject(new Error(`runtime process exited with ${code}`)); });
  });
  return {
    host, port: actual, baseDir,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
}
