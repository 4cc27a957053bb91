/**
 * Reads a sandbox's usage from its host cgroups (v1 hierarchies under /sys/fs/cgroup, path
 * `/agentbox/<id>` as set in the OCI spec). For gVisor this is everything the sandbox costs the
 * host: sentry, gofer and the application memory the sentry holds.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';

const ROOT = '/sys/fs/cgroup';

export const cgroupPath = (id: string) => `/agentbox/${id}`;

/**
 * One counter of the sandbox's cgroup. 0 only when the cgroup does not exist: a sandbox that
 * has no cgroup (checkpointed, stopped) holds nothing on the host. Anything else that stops the
 * read (no v1 hierarchy for the controller, a missing or unreadable file, a value that is not a
 * number) is an error, never a 0 that would read as "uses nothing".
 */
async function readNumber(controller: string, id: string, file: string): Promise<number> {
  const hierarchy = join(ROOT, controller);
  if (!existsSync(hierarchy)) {
    throw new AgentboxError('not_supported', `cannot read sandbox usage: the cgroup v1 '${controller}' hierarchy is not mounted at ${hierarchy}`);
  }
  const dir = join(hierarchy, cgroupPath(id));
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (err) {
    if (!existsSync(dir)) return 0;
    throw new AgentboxError('internal', `cannot read ${join(dir, file)}: ${(err as Error).message}`);
  }
  const n = Number(text.trim());
  if (!Number.isFinite(n)) throw new AgentboxError('internal', `${join(dir, file)} holds '${text.trim()}', not a number`);
  return n;
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
