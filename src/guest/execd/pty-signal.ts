/**
 * Delivering a PTY session's `signal` control message. On a terminal, Ctrl-C interrupts the
 * terminal's foreground job, not the shell (bash ignores SIGINT while it waits for a job and puts
 * each job in its own group), so the signal goes to the group the terminal names as foreground:
 * `tpgid`, field 8 of /proc/<pid>/stat. Without a terminal it goes to the process's own group.
 */
import { killGroup } from '../process/kill.ts';
import { procStatFields } from '../process/proc-stat.ts';

/** The terminal's foreground process group of `pid`, or undefined when it has none or is gone. */
function foregroundGroup(pid: number): number | undefined {
  const tpgid = Number(procStatFields(pid)?.[5]);
  return Number.isInteger(tpgid) && tpgid > 0 ? tpgid : undefined;
}

export function signalSession(pid: number, onTerminal: boolean, signal: NodeJS.Signals): void {
  killGroup((onTerminal ? foregroundGroup(pid) : undefined) ?? pid, signal);
}
