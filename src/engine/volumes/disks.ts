/**
 * Volumes on one machine: each is a sparse ext4 image of its own on a loop device, exactly like
 * a sandbox's disk (images/disk.ts), mounted `nosuid,nodev` on the host at
 * `<home>/volumes/<id>/data`, and bind-mounted from there into every sandbox that mounts it
 * (bundle.ts). The kernel enforces the size: a sandbox that fills a volume gets ENOSPC inside,
 * the sandboxes sharing it see a full volume, and the host filesystem never holds more than the
 * image's size. The content API (server/volumes/) works on the same host directory.
 *
 * The root of a new volume belongs to uid/gid 1000, the shipped templates' `user`
 * (templates/base.yaml), so the default user of a sandbox can write to it; root inside can
 * chown anything below as usual. Under gVisor the sandbox's ids are the host's, so files keep
 * their owners from one sandbox to the next.
 */
import { existsSync, readdirSync } from 'node:fs';
import { chown, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError, notFound } from '../../api/errors.ts';
import { ensurePrivateDir } from '../fsutil.ts';
import { attachDisk, isMountPoint, removeDisk, type DiskImage } from '../images/disk.ts';

/** The uid and gid of `user` in the shipped templates: the owner of a new volume's root. */
export const VOLUME_OWNER_ID = 1000;

/** Volume ids are the server's UUIDs; nothing else ever names a directory here. */
const VOLUME_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class VolumeDisks {
  constructor(readonly root: string) {}

  private disk(id: string, sizeMiB = 0): DiskImage {
    if (!VOLUME_ID_RE.test(id)) throw notFound('volume', id);
    return { file: join(this.root, id, 'volume.img'), mount: join(this.root, id, 'data'), sizeMiB };
  }

  /** Host directory of a volume's files; unavailable while its image is not mounted. */
  dir(id: string): string {
    const d = this.disk(id);
    if (!existsSync(d.file)) throw notFound('volume', id);
    if (!isMountPoint(d.mount)) throw new AgentboxError('unavailable', `volume ${id} is not mounted on this host; retry in a moment`);
    return d.mount;
  }

  /** Makes and mounts a new volume of `sizeMiB`; its root belongs to the templates' `user`. */
  async create(id: string, sizeMiB: number): Promise<void> {
    const d = this.disk(id, sizeMiB);
    await ensurePrivateDir(join(this.root, id));
    await attachDisk(d, { create: true });
    // A new volume is empty, as on E2B: mkfs's lost+found would show in every listing.
    await rm(join(d.mount, 'lost+found'), { recursive: true, force: true });
    await chown(d.mount, VOLUME_OWNER_ID, VOLUME_OWNER_ID);
  }

  /** Mounts an existing volume (idempotent): before a sandbox that mounts it boots, and at start-up. */
  async attach(id: string): Promise<void> {
    await attachDisk(this.disk(id), { create: false });
  }

  /** Unmounts and deletes a volume with its files. */
  async remove(id: string): Promise<void> {
    await removeDisk(this.disk(id));
    await rm(join(this.root, id), { recursive: true, force: true });
  }

  /** Mounts every volume found on disk (after a host reboot nothing is mounted). */
  async attachAll(log: (msg: string, fields?: Record<string, unknown>) => void): Promise<void> {
    await ensurePrivateDir(this.root);
    for (const id of readdirSync(this.root).filter((n) => VOLUME_ID_RE.test(n))) {
      if (!existsSync(this.disk(id).file)) {
        // A crash between making the directory and the image: nothing was ever stored in it.
        await rm(join(this.root, id), { recursive: true, force: true });
        continue;
      }
      await this.attach(id).catch((err: unknown) => log('mounting a volume failed', { id, err: String(err) }));
    }
  }
}
