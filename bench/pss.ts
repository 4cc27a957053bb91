/**
 * Proportional set size (PSS) of a sandbox's host processes, split into gVisor's sentry, its
 * gofer, and the systrap stubs that hold the guest's address spaces (issue #13).
 *
 * systrap starts several stub processes per guest address space that share one memory map
 * (clone with CLONE_VM, without CLONE_THREAD), and each reports that whole map in its own
 * smaps_rollup: summing every PID counted the guest's memory two or three times (61.5 MiB per
 * idle sandbox on 2026-11-30, where one count of each map gives ~40). Processes are therefore
 * grouped by memory map with kcmp(2) (KCMP_VM), which Node cannot call: a few lines of Python's
 * ctypes do, and Debian ships python3.
 */
import { readFile } from 'node:fs/promises';
import { runCommand } from '../src/engine/command.ts';

export interface PssBreakdown {
  total: number;
  sentry: number;
  gofer: number;
  /** The systrap stubs: the guest's own memory (its pages live in the sentry's memory file). */
  guest: number;
}

/** Prints one PID per distinct memory map among its arguments (kcmp(2), syscall 312 on x86-64). */
const DISTINCT_MAPS_PY = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
seen = []
for p in map(int, sys.argv[1:]):
    if all(libc.syscall(312, p, q, 1, 0, 0) != 0 for q in seen):
        seen.append(p)
print(" ".join(map(str, seen)))
`;

async function distinctMaps(pids: string[]): Promise<string[]> {
  if (pids.length === 0) return [];
  const { stdout } = await runCommand('python3', ['-c', DISTINCT_MAPS_PY, ...pids]);
  return stdout.trim().split(/\s+/).filter(Boolean);
}

async function pssOf(pid: string): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
}

/** PSS of every distinct memory map among the processes of a memory cgroup, bytes. */
export async function cgroupPss(cgroupDir: string): Promise<PssBreakdown> {
  const procs = [...new Set((await readFile(`${cgroupDir}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean))];
  const out: PssBreakdown = { total: 0, sentry: 0, gofer: 0, guest: 0 };
  for (const pid of await distinctMaps(procs)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const pss = await pssOf(pid);
    const part = cmd.startsWith('runsc-gofer') ? 'gofer' : cmd.startsWith('runsc-sandbox') ? 'sentry' : 'guest';
    out[part] += pss;
    out.total += pss;
  }
  return out;
}

/** The memory cgroup of sandbox (or bare container) `id` under cgroup v1. */
export const sandboxCgroup = (id: string) => `/sys/fs/cgroup/memory/agentbox/${id}`;
