/**
 * Runs host tools (runsc, runc, ip, nft, mount, mmdebstrap...) without a shell, and turns a
 * failure into an AgentboxError that carries the tool's own stderr, so the user sees why.
 */
import { spawn } from 'node:child_process';
import { AgentboxError, type ErrorCode } from '../api/errors.ts';

export interface CommandOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each chunk of stderr+stdout as it arrives (progress display of long builds). */
  onOutput?: (chunk: string) => void;
  /** Error code to use when the command fails (default `internal`). */
  errorCode?: ErrorCode;
  /** Kills the command (SIGKILL) when aborted; the promise then rejects. */
  signal?: AbortSignal;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      opts.onOutput?.(b.toString());
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      opts.onOutput?.(b.toString());
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'ENOENT' ? ` (is '${file}' installed? run 'agentbox doctor')` : '';
      reject(new AgentboxError(opts.errorCode ?? 'unavailable', `cannot run ${file}: ${e.message}${hint}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) return resolve({ stdout, stderr });
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const detail = (stderr.trim() || stdout.trim()).split('\n').slice(-8).join('\n');
      reject(new AgentboxError(opts.errorCode ?? 'internal', `${file} ${args.slice(0, 3).join(' ')} failed (${why}): ${detail}`, {
        details: { command: [file, ...args], exitCode: code, stderr: stderr.slice(-4000) },
      }));
    });
    // A tool that fails before reading its input closes the pipe; its exit status tells why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
