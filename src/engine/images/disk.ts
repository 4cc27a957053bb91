/**
 * Sandbox disks: a sparse ext4 image per sandbox on a loop device, mounted `nosuid,nodev`
 * where its writable layer (overlay upper and work dirs) lives, and a second one for its
 * checkpoint images from its first pause on (pause/checkpoint-image.ts). The kernel enforces their size: a sandbox that fills its
 * disk gets ENOSPC inside, and the host filesystem never holds more than the image's size.
 *
 * Works on any Linux host filesystem that supports sparse files (no reformatting, no quota
 * tools). Making an image takes tens of milliseconds whatever its size (mkfs of a sparse file
 * writes only its metadata); it costs host disk only for what the sandbox writes, and `discard`
 * hands deleted blocks back to the host. The sandbox sees files, never the block device: the
 * image is written only by the host kernel's ext4, so mounting it again (after a reboot) mounts
 * nothing a sandbox crafted.
 *
 * Crash safety: an image appears under its final name only once mkfs has finished; the loop
 * device is set up by mount(8) with autoclear, so it goes away with the last unmount and never
 * outlives its mount, even when the server is killed between the two; `sweepOrphanLoops`
 * removes what a crash in the middle of a teardown may leave.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import type { DiskUsage } from '../types.ts';
import { unmount } from './overlay.ts';

export interface DiskImage {
  /** The sparse image file. */
  file: string;
  /** Where it is mounted. */
  mount: string;
  sizeMiB: number;
}

/**
 * Host-side mount options. nosuid/nodev: the image holds whatever the sandbox made (setuid-root
 * binaries, device nodes), which must mean nothing on the host. discard: deleted files give
 * their blocks back to the host (the loop driver punches holes in the image).
 */
const MOUNT_OPTIONS = 'loop,nosuid,nodev,noatime,discard';

/**
 * `-T default`: 4 KiB blocks and one inode per 16 KiB even for small images (mke2fs would pick
 * 1 KiB blocks under 512 MiB). `-m 0`: no blocks reserved for root (the sandbox's writes come
 * from a root process on the host, so a reserve would only blur the limit). Lazy init: inode
 * tables and journal of a sparse file read as zeros already.
 */
const MKFS_ARGS = ['-q', '-F', '-t', 'ext4', '-T', 'default', '-m', '0', '-E', 'lazy_itable_init=1,lazy_journal_init=1'];

/** Whether `path` is the root of a mount (a different device than its parent directory). */
export function isMountPoint(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/**
 * Mounts a disk image at its mount point; idempotent. With `create`, a missing image is made
 * first; without, a missing image is an error (a sandbox's files must never silently restart
 * empty, nor land on the host filesystem beside an unmounted image).
 */
export async function attachDisk(d: DiskImage, opts: { create: boolean; directIoLater?: boolean }): Promise<void> {
  if (isMountPoint(d.mount)) return;
  if (!existsSync(d.file)) {
    if (!opts.create) {
      throw new AgentboxError('integrity_error', `disk image ${d.file} is missing; the sandbox's files cannot be mounted`);
    }
    await makeImage(d.file, d.sizeMiB);
  }
  // Synchronous (microseconds): the mount's process starts before whatever the caller runs
  // beside the attach gets the event loop (a create makes its network meanwhile).
  mkdirSync(d.mount, { recursive: true });
  await runCommand('mount', ['-t', 'ext4', '-o', MOUNT_OPTIONS, d.file, d.mount]);
  if (!opts.directIoLater) await switchToDirectIo(d.mount);
}

/**
 * Direct I/O: the loop device writes straight to the image instead of through a second page
 * cache; 256 MiB + fsync takes ~0.6 s instead of ~4 s here (BENCHMARKS.md). mount(8) cannot
 * ask for it, so it is switched on the bound device. A host filesystem without O_DIRECT
 * (tmpfs) refuses it; the disk then stays correct, only slower.
 *
 * Switching freezes the device's queue (~20 ms a disk here), and writes to the disk wait for it,
 * so a create attaches with `directIoLater` and calls this once it is done: its own writes (the
 * seed of a restored sandbox's files) then go through the page cache, not through the freeze
 * (BENCHMARKS.md, issue #13). The detach waits for the switch, so it never lands on a loop
 * device that another disk has taken since.
 */
export function switchToDirectIoInBackground(d: Pick<DiskImage, 'mount'>): void {
  const switching = switchToDirectIo(d.mount);
  directIoSwitches.set(d.mount, switching);
  void switching.finally(() => { if (directIoSwitches.get(d.mount) === switching) directIoSwitches.delete(d.mount); });
}

/** Switches to direct I/O still under way, by mount point. */
const directIoSwitches = new Map<string, Promise<void>>();

async function switchToDirectIo(mount: string): Promise<void> {
  const device = mountSource(mount);
  if (device) await runCommand('losetup', ['--direct-io=on', device]).catch(() => undefined);
}

/** Makes a formatted, sparse image at `file`; it appears under that name only once complete. */
export async function makeImage(file: string, sizeMiB: number): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.truncate(sizeMiB * 1024 * 1024);
  } finally {
    await fh.close();
  }
  try {
    await runCommand('mkfs.ext4', [...MKFS_ARGS, tmp], { timeoutMs: 60_000 });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Unmounts a disk image and releases its loop device; the image file stays. Idempotent. */
export async function detachDisk(d: Pick<DiskImage, 'file' | 'mount'>): Promise<void> {
  await directIoSwitches.get(d.mount);
  // Lazy: a process still holding a file (runsc reading restored memory) must not block this;
  // the loop device's autoclear frees it when the last user is gone.
  await unmount(d.mount);
  await releaseLoops((backing) => backing === d.file);
}

/** Detaches and deletes a disk image (a checkpoint image that is no longer wanted). */
export async function removeDisk(d: Pick<DiskImage, 'file' | 'mount'>): Promise<void> {
  await detachDisk(d);
  await rm(d.file, { force: true });
  await rm(d.mount, { recursive: true, force: true });
}

/**
 * Usage of a mounted disk image (undefined when it is not mounted): what the sandbox's files
 * take, of what the filesystem can hold (the image's size less ext4's journal and tables).
 */
export function diskUsage(mount: string): DiskUsage | undefined {
  if (!isMountPoint(mount)) return undefined;
  const s = statfsSync(mount);
  return { usedBytes: (s.blocks - s.bfree) * s.bsize, limitBytes: s.blocks * s.bsize };
}

export interface LoopDevice {
  /** e.g. /dev/loop3 */
  device: string;
  /** The file behind it, without the kernel's " (deleted)" suffix. */
  backingFile: string;
  deleted: boolean;
  /** Set up by mount(8): detaches itself when its last user (the mount) goes. */
  autoclear: boolean;
}

/** Every attached loop device and its backing file, from sysfs. */
export function loopDevices(): LoopDevice[] {
  const out: LoopDevice[] = [];
  let names: string[];
  try {
    names = readdirSync('/sys/block').filter((n) => n.startsWith('loop'));
  } catch {
    return out;
  }
  for (const name of names) {
    let backing: string;
    let autoclear: boolean;
    try {
      backing = readFileSync(`/sys/block/${name}/loop/backing_file`, 'utf8').trimEnd();
      autoclear = readFileSync(`/sys/block/${name}/loop/autoclear`, 'utf8').trim() === '1';
    } catch {
      continue; // not attached
    }
    const deleted = backing.endsWith(' (deleted)');
    out.push({ device: `/dev/${name}`, backingFile: deleted ? backing.slice(0, -' (deleted)'.length) : backing, deleted, autoclear });
  }
  return out;
}

/**
 * Unmounts every mount of the loop devices whose backing file matches, then detaches them.
 * An autoclear device (mount(8) made it) detaches itself once unmounted, so it needs no call.
 */
async function releaseLoops(matches: (backingFile: string) => boolean): Promise<void> {
  const loops = loopDevices().filter((l) => matches(l.backingFile));
  if (loops.length === 0) return;
  const devices = new Set(loops.map((l) => l.device));
  for (const target of mountsOf(devices)) await unmount(target);
  // On a device still in use this only sets autoclear; one already gone is not an error.
  for (const l of loops.filter((x) => !x.autoclear)) await runCommand('losetup', ['-d', l.device]).catch(() => undefined);
}

/** (mount point, source) of every mount (mountinfo: fields after " - " are type and source). */
function mounts(): { target: string; source: string }[] {
  const out: { target: string; source: string }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    out.push({ target: left.split(' ')[4]!, source: right.split(' ')[1] ?? '' });
  }
  return out;
}

/** Mount points whose source is one of `devices`. */
function mountsOf(devices: Set<string>): string[] {
  return mounts().filter((m) => devices.has(m.source)).map((m) => m.target);
}

/** The device mounted at `target` (the last mount there wins, as in the kernel). */
function mountSource(target: string): string | undefined {
  return mounts().filter((m) => m.target === target).at(-1)?.source;
}

/**
 * Releases loop devices backed by an image under `root` (`<root>/<id>/…`) whose sandbox is not
 * `known`: left by a crash between unmounting a sandbox and deleting its directory.
 */
export async function sweepOrphanLoops(root: string, known: (id: string) => boolean): Promise<number> {
  const prefix = root.endsWith(sep) ? root : root + sep;
  const orphan = (file: string) => file.startsWith(prefix) && !known(file.slice(prefix.length).split(sep)[0]!);
  const count = loopDevices().filter((l) => orphan(l.backingFile)).length;
  await releaseLoops(orphan);
  return count;
}
