/**
 * User namespaces for the runc runtime class: sandbox root is an unprivileged host uid.
 *
 * Every runc sandbox gets its own range of 65536 host uids and gids, numbered by its address
 * slot (unique among the engine's sandboxes, and kept in its record for its whole life):
 * root inside is `ID_BASE + slot * 65536` outside. Per-sandbox ranges, rather than one range
 * shared by every sandbox, mean that a process escaping one sandbox owns no file and can
 * signal no process of another (different uids), and per-uid kernel limits are not shared.
 * A freed slot, and with it its range, is reused only after the sandbox's processes and
 * files are gone. Two engines on one host (separate homes and subnets, as the tests run)
 * number their slots independently and so may share ranges; production runs one engine.
 *
 * runc enters the user namespace before it mounts the root filesystem, so the path to the
 * mount point must be searchable by the sandbox's root, which the 0700 engine home is not.
 * The mount point is therefore `/run/agentbox/rootfs/<hash of the sandbox dir>/rootfs`, whose
 * parent is owned by the sandbox's root with mode 0700: no other sandbox and no host user
 * can reach it.
 *
 * The image layers are shared and owned by host root, so the root filesystem is an overlay
 * of idmapped layers (native/idmap-overlay.c) over an upper dir owned by the sandbox's root:
 * the image appears owned by root inside, and whatever the sandbox writes is stored under
 * its unprivileged ids on the host.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import { isMounted, unmount, type OverlayPaths } from '../images/overlay.ts';

export interface IdMapping {
  /** Host uid and gid of root inside the sandbox. */
  hostId: number;
  /** How many consecutive ids are mapped (inside: 0 .. size-1). */
  size: number;
}

/** Host ids from 2^30 up: far above login users and the usual /etc/subuid ranges (100000+). */
export const ID_BASE = 2 ** 30;
export const ID_RANGE = 65536;
/** Highest usable uid is 2^32 - 2 ((uid_t)-1 means "no change" to chown). */
const MAX_RANGES = Math.floor((2 ** 32 - 1 - ID_BASE) / ID_RANGE);

export function sandboxIdMapping(slot: number): IdMapping {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_RANGES) {
    throw new AgentboxError('resource_exhausted', `no user id range left for address slot ${slot} (at most ${MAX_RANGES} runc sandboxes); use a smaller subnet`);
  }
  return { hostId: ID_BASE + slot * ID_RANGE, size: ID_RANGE };
}

const MOUNT_ROOT = '/run/agentbox/rootfs';

/** Where a runc sandbox's root filesystem is mounted (see above). */
export function usernsRootfs(sandboxDir: string): string {
  return join(MOUNT_ROOT, createHash('sha256').update(sandboxDir).digest('hex').slice(0, 24), 'rootfs');
}

/** Removes the mount point and its private parent after the unmount; never recursive, so a mount still there stays intact. */
export async function removeUsernsRootfs(rootfs: string): Promise<void> {
  await rmdir(rootfs).catch(() => undefined);
  await rmdir(dirname(rootfs)).catch(() => undefined);
}

const HELPER_SOURCE = fileURLToPath(new URL('./native/idmap-overlay.c', import.meta.url));

/**
 * Compiles the idmapped-overlay helper once per source version into `<cacheDir>/native`.
 * A build goes to a temp file and is renamed into place, so concurrent engines never run half
 * a binary.
 */
export async function ensureIdmapHelper(cacheDir: string): Promise<string> {
  const source = readFileSync(HELPER_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'native');
  const out = join(dir, `idmap-overlay-${hash}`);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await promisify(execFile)('gcc', ['-O2', '-Wall', '-o', tmp, HELPER_SOURCE]);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new AgentboxError('unavailable', `cannot build the idmapped-mount helper that runc sandboxes need (gcc failed: ${(err as Error).message.split('\n')[0]}); install gcc and libc6-dev`);
  }
  await rename(tmp, out);
  return out;
}

/**
 * Mounts `p.target` as the overlay of `p.lower` (idmapped to `mapping`) and `p.upper` (owned by
 * the sandbox's root); idempotent, like mountOverlay.
 */
export async function mountIdmappedOverlay(helper: string, p: OverlayPaths, mapping: IdMapping): Promise<void> {
  if (await isMounted(p.target)) return;
  await Promise.all([p.upper, p.work, p.target].map((d) => mkdir(d, { recursive: true })));
  // Only the sandbox's root may search the way to its mount point (runc mounts from inside the namespace).
  for (const d of [dirname(MOUNT_ROOT), MOUNT_ROOT]) await chmod(d, 0o711);
  await chown(dirname(p.target), mapping.hostId, mapping.hostId);
  await chmod(dirname(p.target), 0o700);
  // The upper dir's own owner is the owner of / inside; its contents keep the ids they were
  // written with. An upper dir not yet owned by the mapping (a fresh one, or one written by a
  // sandbox created before runc had user namespaces) is shifted into it once.
  if ((await lstat(p.upper)).uid !== mapping.hostId) await shiftOwnership(p.upper, mapping);
  await runCommand(helper, [String(mapping.hostId), String(mapping.size), p.target, p.upper, p.work, ...p.lower], { errorCode: 'unavailable' });
}

/**
 * Moves every file of `dir` from host ids to the sandbox's (id k becomes hostId + k), keeping
 * setuid/setgid bits, which chown clears. Ids already outside 0..size-1 are left alone.
 */
async function shiftOwnership(dir: string, mapping: IdMapping): Promise<void> {
  const shift = (id: number) => (id < mapping.size ? mapping.hostId + id : id);
  // Children before their directory, `dir` itself last: it marks the shift done, and a shift
  // interrupted before it is simply redone (shifted ids are out of 0..size-1).
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
    await lchown(path, shift(st.uid), shift(st.gid));
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await chmod(path, st.mode & 0o7777);
  };
  await visit(dir);
}

/**
 * Lets processes in the network namespace bind ports below 1024. Sandbox root's
 * CAP_NET_BIND_SERVICE counts only in namespaces its user namespace owns, and the engine
 * creates the network namespace on the host; inside one sandbox, low ports protect nothing.
 */
export async function allowLowPorts(netnsPath: string): Promise<void> {
  await runCommand('nsenter', [`--net=${netnsPath}`, '--', 'sysctl', '-qw', 'net.ipv4.ip_unprivileged_port_start=0']);
}

/** Makes a host file (the guest's 0600 config) readable by the sandbox's root, and only by it. */
export async function giveToSandboxRoot(path: string, mapping: IdMapping): Promise<void> {
  await chown(path, mapping.hostId, mapping.hostId);
}

/**
 * Whether this host can mount an idmapped overlay (kernel, helper): mounts one over a tiny
 * layer in a temp dir and checks that a file of host root appears owned by the mapped root.
 */
export async function probeIdmappedOverlay(helper: string, tmpRoot: string): Promise<void> {
  const dir = await mkdtemp(join(tmpRoot, 'idmap-probe-'));
  const p: OverlayPaths = { lower: [join(dir, 'lower')], upper: join(dir, 'upper'), work: join(dir, 'work'), target: usernsRootfs(dir) };
  const mapping = { hostId: ID_BASE, size: ID_RANGE };
  try {
    await mkdir(p.lower[0]!, { recursive: true });
    await writeFile(join(p.lower[0]!, 'owned-by-root'), '');
    await mountIdmappedOverlay(helper, p, mapping);
    const seen = await stat(join(p.target, 'owned-by-root'));
    if (seen.uid !== mapping.hostId) {
      throw new AgentboxError('not_supported', `idmapped layers do not map ownership on this kernel (a root-owned file appears as uid ${seen.uid})`);
    }
  } finally {
    await unmount(p.target).catch(() => undefined);
    await removeUsernsRootfs(p.target);
    await rm(dir, { recursive: true, force: true });
  }
}
