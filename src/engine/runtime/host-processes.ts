/**
 * The host's processes as their argument vectors, read from /proc. Recovery uses them to find
 * work a previous server process started and did not live to see finish: runtime commands
 * (a `runsc run` or `restore` cut by a SIGKILL carries on without its parent) and checkpoints.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HostProcess { pid: number; argv: string[] }

export function hostProcesses(): HostProcess[] {
  const out: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.at(-1) === '') argv.pop();
      if (argv.length > 0) out.push({ pid: Number(entry), argv });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** PIDs of processes whose command line names `path` (a checkpoint writing into it). */
export function processesNaming(path: string, procs = hostProcesses()): number[] {
  return procs.filter((p) => p.argv.includes(path)).map((p) => p.pid);
}

/**
 * Commands of the runtime `binary` working on the state directory `stateDir` (`--root <dir>` or
 * `--root=<dir>`), other than checkpoints (recovery lets those finish and keeps their images).
 * The sandboxes' own processes re-exec as `runsc-sandbox`/`runsc-gofer` (or runc's container
 * init) and never match: only the command-line tool does.
 */
export function strayRuntimeCommands(binary: string, stateDir: string, procs: HostProcess[]): number[] {
  return procs.filter(({ argv }) => {
    if (argv[0] !== binary) return false;
    const rooted = argv.some((a, i) => a === `--root=${stateDir}` || (a === '--root' && argv[i + 1] === stateDir));
    return rooted && !argv.includes('checkpoint');
  }).map((p) => p.pid);
}

/** Whether `pid` still runs: a zombie (exited, not yet reaped by its new parent) does not. */
export function isAlive(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits up to `timeoutMs` for `pid` to exit; true when it did. */
export async function exits(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGKILLs `pids` and waits (up to `timeoutMs`) until they are gone; returns how many it killed. */
export async function killAndReap(pids: number[], timeoutMs = 10_000): Promise<number> {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  await Promise.all(pids.map((pid) => exits(pid, timeoutMs)));
  return pids.length;
}
