/**
 * Delivering a PTY session's `signal` control message. On a terminal, Ctrl-C interrupts the
 * terminal's foreground job, not the shell (bash ignores SIGINT while it waits for a job and puts
 * each job in its own group), so the signal goes to the group the terminal names as foreground:
 * `tpgid`, field 8 of /proc/<pid>/stat. Without a terminal it goes to the process's own group.
 */
import { readFileSync } from 'node:fs';
import { killGroup } from '../process/kill.ts';

/** The terminal's foreground process group of `pid`, or undefined when it has none or is gone. */
function foregroundGroup(pid: number): number | undefined {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // The command name may hold spaces and parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tpgid = Number(fields[5]);
  return Number.isInteger(tpgid) && tpgid > 0 ? tpgid : undefined;
}

export function signalSession(pid: number, onTerminal: boolean, signal: NodeJS.Signals): void {
  killGroup((onTerminal ? foregroundGroup(pid) : undefined) ?? pid, signal);
}
