// POST /execute: argv from shlex (no shell), cwd = base dir, a time limit that kills the whole
// process group. Failures to start are reported as exit_code 1, as the legacy runtime does.
import { spawn } from 'node:child_process';
import { shlexSplit } from './shlex.ts';

export interface ExecuteResult { stdout: string; stderr: string; exit_code: number; timed_out?: boolean }

const MAX_OUTPUT = 16 * 1024 * 1024;

export function execute(command: string, cwd: string, timeoutSeconds: number): Promise<ExecuteResult> {
  let argv: string[];
  try { argv = shlexSplit(command); } catch (e) { return Promise.resolve({ stdout: '', stderr: (e as Error).message, exit_code: 1 }); }
  if (argv.length === 0) return Promise.resolve({ stdout: '', stderr: 'empty command', exit_code: 1 });
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (c: Buffer) => { if (size < MAX_OUTPUT) { into.push(c); size += c.length; } };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutSeconds * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ stdout: '', stderr: e.message, exit_code: 1 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exit_code: code ?? (signal ? 128 + 9 : 1),
        ...(timedOut ? { timed_out: true } : {}),
      });
    });
  });
}
