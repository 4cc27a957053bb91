/**
 * Pause by checkpoint (gVisor): memory and processes are written to an image of their own and
 * the sandbox is stopped, so a paused sandbox holds no memory; resume restores it. The record
 * says `pausing` or `resuming` while the runtime works, so recovery.ts can finish or roll back
 * either after a crash.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { asAgentboxError } from '../../api/errors.ts';
import { attachDisk, removeDisk } from '../images/disk.ts';
import { isMounted } from '../images/overlay.ts';
import { netnsExists } from '../network/netns.ts';
import { IMAGES, PAUSE_SEAL, sealSnapshot, verifySnapshot } from '../snapshots.ts';
import type { PauseStrategy } from './strategy.ts';

export const checkpointPause: PauseStrategy = {
  async pause(t, r) {
    const id = r.id;
    const driver = t.driver(r.runtime);
    const p = t.paths(id);
    const phases = t.phases('pause', id);
    // The checkpoint goes to an image of its own, so that a pause cannot fill the host disk.
    await phases.time('image', async () => {
      await removeDisk(t.checkpointDisk(r));
      await attachDisk(t.checkpointDisk(r), { create: true });
      await mkdir(join(p.checkpoint, IMAGES), { recursive: true });
    });
    t.pids.delete(id);
    await t.setState(r, 'pausing');
    try {
      await phases.time('checkpoint', () => driver.checkpoint(id, join(p.checkpoint, IMAGES), { direct: true }));
      await phases.time('seal', () => sealSnapshot(p.checkpoint, `pause-${id}`, r, driver.binarySha256, PAUSE_SEAL));
      await phases.time('delete', () => driver.delete(id));
    } catch (err) {
      await removeDisk(t.checkpointDisk(r)).catch(() => undefined);
      // The sandbox keeps running when checkpoint fails; report the cause, keep the state true.
      const status = await driver.status(id);
      if (status?.status === 'running') {
        await t.setState(r, 'running');
        await t.watch(r);
      } else await t.markFailed(r, `pause failed: ${asAgentboxError(err).message}`);
      throw asAgentboxError(err);
    }
    t.dropGuest(id);
    await t.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: true });
    phases.done();
  },

  async resume(t, r) {
    const id = r.id;
    const driver = t.driver(r.runtime);
    const p = t.paths(id);
    const link = t.link(r);
    const phases = t.phases('resume', id);
    // Resume is on the hot path of every auto-resume: independent steps run together, and
    // the bundle is rewritten only when a host reboot took its mount (and namespace) away.
    await Promise.all([
      phases.time('verify', () => verifySnapshot(p.checkpoint, () => driver.binarySha256)),
      phases.time('network', async () => {
        if (!netnsExists(id) || !(await isMounted(p.rootfs))) {
          await t.ensureNetwork(r);
          await t.prepareBundle(r, link);
        }
        await t.addressLink(r);
      }),
    ]);
    await t.setState(r, 'resuming');
    try {
      // pause deleted the container, so restore needs no delete first.
      t.pids.set(id, await phases.time('restore', () => driver.restore(id, p.bundle, join(p.checkpoint, IMAGES), p.log, { background: true })));
    } catch (err) {
      await driver.delete(id).catch(() => undefined);
      await t.setState(r, 'paused');
      throw asAgentboxError(err);
    }
    await t.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined });
    // runsc may still read the image files; the lazy unmount keeps them until it closes them.
    await phases.time('remove image', () => removeDisk(t.checkpointDisk(r)));
    await phases.time('guest ready', () => t.waitReady(r));
    phases.done();
  },

  // pause deleted the container already.
  release: async () => undefined,
};
