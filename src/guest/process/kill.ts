/** Signals a process's whole group: both drivers start the child as a session leader (pgid = pid). */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Not a group leader any more (it may have called setsid itself): signal the process.
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}
