/**
 * Reads a sandbox's usage from its host cgroups (v1 hierarchies under /sys/fs/cgroup, path
 * `/agentbox/<id>` as set in the OCI spec). For gVisor this is everything the sandbox costs the
 * host: sentry, gofer and the application memory the sentry holds.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

export const cgroupPath = (id: string) => `/agentbox/${id}`;

async function readNumber(controller: string, id: string, file: string): Promise<number> {
  try {
    return Number((await readFile(join(ROOT, controller, cgroupPath(id), file), 'utf8')).trim()) || 0;
  } catch {
    return 0;
  }
}

export async function cgroupUsage(id: string): Promise<{ memoryBytes: number; cpuNanos: number; pids: number }> {
  const [memoryBytes, cpuNanos, pids] = await Promise.all([
    readNumber('memory', id, 'memory.usage_in_bytes'),
    readNumber('cpuacct', id, 'cpuacct.usage'),
    readNumber('pids', id, 'pids.current'),
  ]);
  return { memoryBytes, cpuNanos, pids };
}

/** How many times the kernel OOM killer acted in the sandbox's memory cgroup (0 if unknown). */
export async function oomKills(id: string): Promise<number> {
  try {
    const text = await readFile(join(ROOT, 'memory', cgroupPath(id), 'memory.oom_control'), 'utf8');
    return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** How many forks the sandbox's host pids limit refused (0 if unknown): the backstop was hit. */
export async function pidsLimitHits(id: string): Promise<number> {
  try {
    const text = await readFile(join(ROOT, 'pids', cgroupPath(id), 'pids.events'), 'utf8');
    return Number(/^max (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
