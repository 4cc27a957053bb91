/**
 * Child processes that announce themselves with one stdout line (a server printing its URL and
 * key once it listens, an engine printing the ids it prepared): start one and read that line.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Resolves with `child`'s first stdout line. Rejects, naming `what`, when the child exits first
 * or prints nothing within `timeoutMs`.
 */
export function readFirstLine(what: string, child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} printed nothing in ${timeoutMs / 1000} s`)), timeoutMs);
    createInterface({ input: child.stdout! }).once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${what} exited (${signal ?? code}) before printing a line`)); });
  });
}

/**
 * Spawns `command args` (stdout piped, stderr inherited unless `opts` say otherwise) and resolves
 * with the child and its first stdout line. When that line does not come (see readFirstLine),
 * the child is SIGKILLed, so a failed start leaves nothing running.
 */
export async function spawnAndReadFirstLine(what: string, command: string, args: string[], opts: SpawnOptions & { timeoutMs: number }): Promise<{ child: ChildProcess; line: string }> {
  const { timeoutMs, ...spawnOpts } = opts;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...spawnOpts });
  try {
    return { child, line: await readFirstLine(what, child, timeoutMs) };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}
