/**
 * Enforces the sandbox's pids limit inside a gVisor sandbox. The host cgroup counts the
 * sentry's threads, not the sandbox's tasks, and a fork bomb that reaches it kills the whole
 * sandbox; gVisor's own cgroupfs counts the sandbox's tasks and makes fork fail with EAGAIN
 * instead. The guest moves itself into a child pids cgroup before it starts any process, so
 * every process it starts (and their children) is counted there.
 *
 * Root inside the sandbox can raise this limit or leave the cgroup: it keeps honest workloads
 * within `pids`, it is not a boundary. What holds against root is the host backstop on the
 * sandbox's host cgroup (engine: runtime/oci-spec.ts hostPidsLimit, runtime/pids-ceiling.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestLog } from './log.ts';

const PIDS_ROOT = '/sys/fs/cgroup/pids';

export function confinePids(limit: number, log: GuestLog, root = PIDS_ROOT): boolean {
  if (!existsSync(root)) {
    log.error('no pids cgroup in the sandbox; the pids limit is only enforced on the host', { limit });
    return false;
  }
  try {
    const dir = join(root, 'agentbox');
    mkdirSync(dir, { recursive: true });
    // The limit counts the guest's own tasks too, exactly as the host cgroup does under runc,
    // so a sandbox's `pids` means the same on every runtime class.
    writeFileSync(join(dir, 'pids.max'), String(limit));
    writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
    return true;
  } catch (err) {
    log.error('could not apply the pids limit inside the sandbox', { limit, error: (err as Error).message });
    return false;
  }
}
