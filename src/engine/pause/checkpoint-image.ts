/**
 * The disk image a sandbox's pause writes its checkpoint to (sandbox-table.ts checkpointDisk),
 * so that a pause cannot fill the host disk. It is made and mounted at the sandbox's first
 * pause and then kept: a resume only empties it, after it returned, so later pauses neither run
 * mkfs nor mount on their path (making and mounting it took 0.1-0.7 s of each pause under load,
 * BENCHMARKS.md, issue #13). Emptied, it holds ext4's metadata only: `discard` hands the freed
 * blocks back to the host. Teardown detaches it; recovery.ts removes it from any sandbox that
 * is not paused.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { attachDisk, type DiskImage } from '../images/disk.ts';
import { IMAGES, MANIFEST } from '../snapshots.ts';

/** Mounts the image (made at the first pause), empty; returns the directory runsc writes to. */
export async function prepareCheckpointImage(d: DiskImage): Promise<string> {
  await attachDisk(d, { create: true });
  await emptyCheckpointImage(d.mount);
  const images = join(d.mount, IMAGES);
  await mkdir(images);
  return images;
}

/**
 * Removes a restored (or abandoned) checkpoint from the mounted image. runsc may still be
 * reading its pages (`restore --background`): unlinked files keep their blocks until it closes
 * them.
 */
export async function emptyCheckpointImage(mount: string): Promise<void> {
  // The manifest first: images without one are never restored (snapshots.ts), so a crash half
  // way through leaves nothing a resume or recovery could take for a checkpoint.
  await rm(join(mount, MANIFEST), { force: true });
  await rm(join(mount, IMAGES), { recursive: true, force: true });
}
