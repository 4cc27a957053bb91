/** The `agentbox` command as a real subprocess (bin/agentbox.mjs), for the tests under test/cli. */
import { spawn } from 'node:child_process';

export const bin = new URL('../../bin/agentbox.mjs', import.meta.url).pathname;

export interface CliResult { code: number; signal: NodeJS.Signals | null; stdout: string; stderr: string; stdoutBytes: Buffer }

export interface CliOptions {
  env?: Record<string, string>;
  /** Close our end of the child's stdout (or stderr) before it writes: a reader that went away, as `| head -1` does. */
  closeStdout?: boolean;
  closeStderr?: boolean;
  timeoutMs?: number;
  /** Written to the child's standard input, which is then closed (at once, empty, without it). */
  stdin?: string | Buffer;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {}); // a child that exits without reading its input
    child.stdin.end(opts.stdin);
    const out: Buffer[] = [];
    let stderr = '';
    if (opts.closeStdout) child.stdout.destroy(); else child.stdout.on('data', (c: Buffer) => { out.push(c); });
    if (opts.closeStderr) child.stderr.destroy(); else child.stderr.on('data', (c) => { stderr += c; });
    const limit = opts.timeoutMs ?? 30_000;
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`agentbox ${args.join(' ')} took over ${limit / 1000} s`)); }, limit);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code: code ?? -1, signal, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
  });
}
