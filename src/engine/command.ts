/**
 * Runs host tools (runsc, runc, ip, nft, mount, mmdebstrap...) without a shell, and turns a
 * failure into an AgentboxError that carries the tool's own stderr, so the user sees why.
 */
import { AgentboxError, type ErrorCode } from '../api/errors.ts';
import { CommandHost, runHere, type ToolRequest } from './command-host.ts';

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
  /** Appends the command's stdout and stderr to this file instead of collecting them (a runtime's log). */
  outputFile?: string;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * The command host that runs tools for the engines in this process (command-host.ts), while
 * at least one engine uses it; without, tools start from this process.
 */
let host: CommandHost | undefined;
let hostUsers = 0;

/** Has this process's tools run by the command host until the returned function is called. */
export function useCommandHost(): () => void {
  hostUsers++;
  host ??= new CommandHost();
  host.warm();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--hostUsers > 0) return;
    host?.stop();
    host = undefined;
  };
}

export async function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const req: ToolRequest = { file, args, cwd: opts.cwd, env: opts.env ?? process.env, input: opts.input ?? '', timeoutMs: opts.timeoutMs, outputFile: opts.outputFile };
  const outcome = await (host?.run(req, opts.onOutput, opts.signal) ?? runHere(req, opts.onOutput, opts.signal));
  if (!outcome.ended) {
    const hint = outcome.code === 'ENOENT' ? ` (is '${file}' installed? run 'agentbox doctor')` : '';
    throw new AgentboxError(opts.errorCode ?? 'unavailable', `cannot run ${file}: ${outcome.message}${hint}`, { details: { command: [file, ...args], code: outcome.code } });
  }
  const stdout = outcome.stdout.toString();
  const stderr = outcome.stderr.toString();
  if (outcome.code === 0) return { stdout, stderr };
  const why = outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
  const detail = (stderr.trim() || stdout.trim()).split('\n').slice(-8).join('\n');
  throw new AgentboxError(opts.errorCode ?? 'internal', `${file} ${args.slice(0, 3).join(' ')} failed (${why}): ${detail}`, {
    details: { command: [file, ...args], exitCode: outcome.code, stderr: stderr.slice(-4000) },
  });
}
