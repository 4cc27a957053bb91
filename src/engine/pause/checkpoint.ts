/**
 * Pause by checkpoint (gVisor): memory and processes are written to an image of their own and
 * the sandbox is stopped, so a paused sandbox holds no memory; resume restores it. The record
 * says `pausing` or `resuming` while the runtime works, so recovery.ts can finish or roll back
 * either after a crash.
 */
import { join } from 'node:path';
import { asAgentboxError } from '../../api/errors.ts';
import { removeDisk } from '../images/disk.ts';
import { isMounted } from '../images/overlay.ts';
import { netnsExists } from '../network/netns.ts';
import { IMAGES, PAUSE_SEAL, sealSnapshot, verifySnapshot } from '../snapshots.ts';
import { emptyCheckpointImage, prepareCheckpointImage } from './checkpoint-image.ts';
import type { PauseStrategy } from './strategy.ts';

export const checkpointPause: PauseStrategy = {
  async pause(t, r) {
    const id = r.id;
    const driver = t.driver(r.runtime);
    const p = t.paths(id);
    const phases = t.phases('pause', id);
    const images = await phases.time('image', () => prepareCheckpointImage(t.checkpointDisk(r)));
    t.pids.delete(id);
    await t.setState(r, 'pausing');
    try {
      await phases.time('checkpoint', () => driver.checkpoint(id, images, { direct: true }));
      await phases.time('seal', () => sealSnapshot(p.checkpoint, `pause-${id}`, r, driver.binarySha256, PAUSE_SEAL));
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
    // The checkpoint stopped the sandbox; removing its container (0.25-0.35 s under load) is
    // left off the pause's path. A resume queues behind it; a crash before it, recovery.ts
    // finishes.
    t.afterward(id, 'deleting the checkpointed container', () => driver.delete(id));
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
      // The container was deleted after the pause (queued before this resume), so restore needs
      // no delete first.
      t.pids.set(id, await phases.time('restore', () => driver.restore(id, p.bundle, join(p.checkpoint, IMAGES), p.log, { background: true })));
    } catch (err) {
      await driver.delete(id).catch(() => undefined);
      await t.setState(r, 'paused');
      throw asAgentboxError(err);
    }
    await t.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined });
    // Emptying the image (0.1-0.8 s, mostly the host filesystem freeing blocks) is left off the
    // resume's path; the image stays for the next pause.
    t.afterward(id, 'emptying the checkpoint image', () => emptyCheckpointImage(p.checkpoint));
    await phases.time('guest ready', () => t.waitGuest(r));
    phases.done();
  },

  // The checkpoint stopped the sandbox: nothing keeps teardown's delete from removing it.
  release: async () => undefined,
};
