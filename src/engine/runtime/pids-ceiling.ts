/**
 * Host-side ceilings on tasks, so that no sandbox, and not all of them together, can use up the
 * host's PIDs (`kernel.pid_max`), whatever root inside a sandbox does.
 *
 * - Per sandbox: its host cgroup's pids.max never exceeds `pid_max / 8` (4096 on a host with
 *   Linux's default pid_max of 32768), so it takes at least eight fork-bombing sandboxes to
 *   use up the share that all sandboxes together get.
 * - All sandboxes together: the parent cgroup `/agentbox` gets `pid_max` minus a reserve of a
 *   quarter (at least 2048), so the host itself (the server, sshd, the runtimes' own helpers)
 *   always has PIDs left.
 *
 * Under gVisor the exact `pids` limit is kept by the guest in the sandbox's own cgroupfs,
 * which root inside the sandbox can raise or leave; these ceilings are what holds then.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SANDBOXES_PER_PID_SPACE = 8;
const CGROUP_ROOT = '/sys/fs/cgroup';
/** The parent of every sandbox's cgroup (cgroups.ts: `/agentbox/<id>`). */
const PARENT = 'agentbox';

let cachedPidMax: number | undefined;

/** The host's `kernel.pid_max` (Linux's default, 32768, when it cannot be read). */
export function hostPidMax(): number {
  if (cachedPidMax === undefined) {
    try {
      cachedPidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || 32768;
    } catch {
      cachedPidMax = 32768;
    }
  }
  return cachedPidMax;
}

/** The most host tasks one sandbox's cgroup may hold. */
export function perSandboxCeiling(pidMax = hostPidMax()): number {
  return Math.floor(pidMax / SANDBOXES_PER_PID_SPACE);
}

/** The most host tasks all sandboxes together may hold: pid_max less the host's reserve. */
export function allSandboxesCeiling(pidMax = hostPidMax()): number {
  return pidMax - Math.max(2048, Math.floor(pidMax / 4));
}

/**
 * Sets the all-sandboxes ceiling on the parent cgroup (v1 pids hierarchy, or the v2 unified
 * tree). Every engine on the host writes the same value, so concurrent engines agree.
 */
export async function capAllSandboxes(root = CGROUP_ROOT, pidMax = hostPidMax()): Promise<void> {
  const v2 = existsSync(join(root, 'cgroup.controllers'));
  const dir = v2 ? join(root, PARENT) : join(root, 'pids', PARENT);
  await mkdir(dir, { recursive: true });
  if (v2) await writeFile(join(root, 'cgroup.subtree_control'), '+pids').catch(() => undefined);
  await writeFile(join(dir, 'pids.max'), String(allSandboxesCeiling(pidMax)));
}
