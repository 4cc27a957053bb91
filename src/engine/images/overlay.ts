/**
 * A sandbox's root filesystem: the image's read-only layers under a private writable upper
 * directory on disk, joined by overlayfs. The upper dir survives pause, resume and restarts of
 * the server; only the mount itself is redone after a host reboot.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { runCommand } from '../command.ts';

export interface OverlayPaths {
  /** Image layers, top-most first (overlayfs lowerdir order). */
  lower: string[];
  upper: string;
  work: string;
  target: string;
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === target);
}

export async function mountOverlay(p: OverlayPaths): Promise<void> {
  if (await isMounted(p.target)) return;
  await Promise.all([p.upper, p.work, p.target].map((d) => mkdir(d, { recursive: true })));
  // nosuid,nodev: the merged tree holds setuid binaries and device nodes that images and sandboxes
  // made; on the host they must stay inert (sandboxes run with no_new_privs and their own /dev).
  const options = `nosuid,nodev,lowerdir=${p.lower.join(':')},upperdir=${p.upper},workdir=${p.work}`;
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', options, p.target]);
}

/** A read-only view of two or more layers (overlayfs needs an upper dir below two). */
export async function mountReadOnly(lower: string[], target: string): Promise<void> {
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', `ro,nosuid,nodev,lowerdir=${lower.join(':')}`, target]);
}

export async function unmount(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  // Lazy: a process that still holds the mount (a dying gofer) must not block deletion.
  await runCommand('umount', ['-l', target]);
}
