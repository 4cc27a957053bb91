/**
 * Where a volume may be mounted inside a sandbox. The path is tenant input (E2B's `volumeMounts`,
 * the native API's `volumes`), so it is checked before anything is laid out: absolute, already
 * normalised (no `.`, `..`, `//` or trailing `/`, as E2B demands), and never over, under or
 * above what the sandbox needs to work or what isolates it: its kernel interfaces (/proc, /sys,
 * /dev), the guest daemon (envd/bundle.ts GUEST_MOUNT and its config; the operator injects it at
 * the same path, k8s/extensions/guest-injection.ts) and the files the engine binds
 * (/etc/resolv.conf, /etc/hosts). "Above" matters: a volume at /opt would hide the guest daemon,
 * one at / the whole image. One rule for both backends (engine/lifecycle.ts, cluster/volumes.ts),
 * so it lives on the ground floor.
 */
import { posix } from 'node:path';
import { invalidArgument } from './errors.ts';

/**
 * Paths a volume may not cover, sit inside, or shadow from above. `/run/agentbox-guest` is where
 * the operator mounts the guest's configuration in a pod (k8s/extensions/guest-injection.ts
 * GUEST_CONFIG_DIR; `/.agentbox` on one machine).
 */
export const RESERVED_PATHS = ['/proc', '/sys', '/dev', '/opt/agentbox', '/.agentbox', '/run/agentbox-guest', '/etc/resolv.conf', '/etc/hosts'];

const MAX_PATH = 4096;

const within = (path: string, root: string) => root === '/' || path === root || path.startsWith(`${root}/`);

/** Why `path` cannot be a mount point, or undefined when it can. */
export function mountPathProblem(path: string): string | undefined {
  if (path === '') return 'path cannot be empty';
  if (path.length > MAX_PATH || path.includes('\0')) return 'path must be at most 4096 characters, without NUL';
  if (!path.startsWith('/')) return 'path must be absolute';
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith('/'))) return "path must not contain any '.' or '..' components";
  const clash = RESERVED_PATHS.find((r) => within(path, r) || within(r, path));
  if (clash) return `path '${path}' would cover or hide ${clash}, which the sandbox needs`;
  return undefined;
}

/** Why a list of mounts is invalid: one reason per bad mount (index and why), empty when all are fine. */
export function mountListProblems(mounts: { path: string }[]): { index: number; reason: string }[] {
  const out: { index: number; reason: string }[] = [];
  const used = new Set<string>();
  mounts.forEach((m, index) => {
    const reason = mountPathProblem(m.path);
    if (reason) out.push({ index, reason });
    else if (used.has(m.path)) out.push({ index, reason: `path '${m.path}' is already used` });
    used.add(m.path);
  });
  return out;
}

/** Throws one 400 naming every bad mount (`invalid mounts: volume mount #1: …; …`), as both backends answer. */
export function checkMountPaths(mounts: { path: string }[]): void {
  const problems = mountListProblems(mounts);
  if (problems.length > 0) throw invalidArgument(`invalid mounts: ${problems.map((p) => `volume mount #${p.index}: ${p.reason}`).join('; ')}`, { mounts: problems });
}
