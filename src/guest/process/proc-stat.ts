/** What /proc/<pid>/stat says about a process in the sandbox. */
import { readFileSync } from 'node:fs';

/**
 * The fields after the command name, the state first (field 3 of proc(5) is index 0), or
 * undefined when the process is gone. The name may hold spaces and parentheses, so fields are
 * counted after its last ')'.
 */
export function procStatFields(pid: number): string[] | undefined {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** False once the process is gone or a zombie (its parent may be slow to reap it). */
export function isRunning(pid: number): boolean {
  const state = procStatFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}
