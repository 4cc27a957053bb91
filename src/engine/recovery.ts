/**
 * Start-up recovery and liveness. After a crash, `recover` finishes or undoes whatever each
 * sandbox's record says was in progress and re-adopts the rest; while the engine runs,
 * `checkLiveness` notices sandboxes that stopped on their own.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { asAgentboxError } from '../api/errors.ts';
import { attachDisk, removeDisk } from './images/disk.ts';
import { teardown } from './lifecycle.ts';
import { netnsExists } from './network/netns.ts';
import { oomKills, pidsLimitHits } from './runtime/cgroups.ts';
import { CHECKPOINT_TIMEOUT_MS } from './runtime/driver.ts';
import { exits, hostProcesses, isAlive, killAndReap, processesNaming } from './runtime/host-processes.ts';
import type { EngineRecord } from './sandbox-record.ts';
import type { SandboxTable } from './sandbox-table.ts';
import { continueFrom } from './snapshot-ops.ts';
import { IMAGES, MANIFEST, PAUSE_SEAL, sealSnapshot } from './snapshots.ts';

/**
 * Finishes or undoes whatever a crash interrupted: half-created and half-destroyed sandboxes
 * are removed; running ones are re-adopted (or marked failed if their runtime is gone);
 * pause and resume are completed or rolled back by what is on disk.
 */
export async function recover(t: SandboxTable): Promise<void> {
  // First stop what the crashed server left running: a `runsc run` or `restore` outlives its
  // parent and would finish a sandbox after this recovery removed it (a sandbox nobody knows).
  const procs = hostProcesses();
  for (const driver of new Set(t.opts.drivers.values())) {
    const stray = driver.strayCommands(procs);
    if (stray.length > 0) t.log('stopped runtime commands a crashed server left running', { runtime: driver.name, count: await killAndReap(stray) });
  }
  for (const { id, record } of t.store.scan()) {
    if (!record || record.state === 'creating' || record.state === 'destroying' || record.golden) {
      t.log('removing unfinished sandbox', { id, state: record?.state });
      await teardown(t, id, record);
      continue;
    }
    t.records.set(id, record);
    try {
      await adopt(t, record);
    } catch (err) {
      await t.markFailed(record, `recovery failed: ${asAgentboxError(err).message}`);
    }
  }
}

/** How long a sandbox may take to stop after the checkpoint that saved it ended. */
const STOP_AFTER_CHECKPOINT_MS = 10_000;

/**
 * Re-attaches the sandbox's disks (a host reboot unmounted them; after a server crash they
 * are still mounted and this is a no-op), then settles its state. A checkpoint image is kept
 * only while the sandbox stays paused: one a crash left beside a running sandbox may still hold
 * the restored checkpoint, and its next pause makes a new one.
 */
async function adopt(t: SandboxTable, r: EngineRecord): Promise<void> {
  if (r.state === 'failed') return;
  await attachDisk(t.disk(r), { create: false });
  if (existsSync(t.paths(r.id).checkpointImage)) await attachDisk(t.checkpointDisk(r), { create: false });
  await settle(t, r);
  // init re-created the firewall table: every sandbox that kept its link gets its rules back,
  // whichever way an interrupted pause or resume settled (a paused one needs them to resume).
  if ((r.state === 'running' || r.state === 'paused') && netnsExists(r.id)) await t.ensureNetwork(r);
  if (r.state !== 'paused') await removeDisk(t.checkpointDisk(r));
}

async function settle(t: SandboxTable, r: EngineRecord): Promise<void> {
  const driver = t.driver(r.runtime);
  const paths = t.paths(r.id);
  // A checkpoint outlives the server that started it: until it ends, the sandbox it is about
  // to stop still looks alive. Decide only once nothing writes the images any more.
  const images = r.state === 'pausing' ? join(paths.checkpoint, IMAGES) : r.state === 'snapshotting' ? join(r.snapshotDir!, IMAGES) : undefined;
  if (images) await untilNoWriters(images);
  const status = await driver.status(r.id);
  const manifestReady = existsSync(join(paths.checkpoint, MANIFEST));
  switch (r.state) {
    case 'pausing':
      // The checkpoint finished (manifest written last) or it did not: settle on one.
      if (manifestReady) {
        await driver.delete(r.id);
        return t.setState(r, 'paused');
      }
      if (status && await aliveAfterCheckpoint(status, images!)) {
        t.pids.set(r.id, status.pid);
        return t.setState(r, 'running');
      }
      // The checkpoint finished after the server died: the sandbox is gone and its images are
      // complete (runsc stops a sandbox only after a successful save). Seal them with the
      // manifest the server never wrote, instead of losing the sandbox.
      if (hasImages(images!)) {
        await sealSnapshot(paths.checkpoint, `pause-${r.id}`, r, driver.binarySha256, PAUSE_SEAL);
        await driver.delete(r.id);
        return t.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: true });
      }
      return t.markFailed(r, 'the server stopped during pause and the sandbox did not survive');
    case 'resuming':
      if (status?.status === 'running' && isAlive(status.pid)) {
        t.pids.set(r.id, status.pid);
        return t.setState(r, 'running');
      }
      await driver.delete(r.id);
      if (manifestReady) return t.setState(r, 'paused');
      return t.markFailed(r, 'the server stopped during resume and the checkpoint is incomplete');
    case 'snapshotting': {
      const snap = r.snapshotDir!;
      const sealed = existsSync(join(snap, MANIFEST));
      if (status && await aliveAfterCheckpoint(status, images!)) t.pids.set(r.id, status.pid);
      else if (sealed || hasImages(images!)) {
        // Stopped by the snapshot's checkpoint: it continues from the images written, over
        // its own writable layer, which nothing touched since. Its rules come first.
        await t.ensureNetwork(r);
        await continueFrom(t, r, join(snap, IMAGES));
      } else return t.markFailed(r, 'the server stopped during a snapshot and the sandbox did not survive');
      // Nobody was told this snapshot's id (the call never returned): it is not kept.
      await rm(snap, { recursive: true, force: true });
      return t.setState(r, 'running', { snapshotDir: undefined });
    }
    case 'created':
      // Never started: nothing runs yet, the bundle on disk is all there is.
      await t.ensureNetwork(r);
      return;
    case 'running':
      if (status === undefined || status.status === 'stopped') {
        return t.markFailed(r, 'the sandbox stopped while the server was down (host reboot or out of memory)');
      }
      // A stale state file (the sentry died) is caught by the liveness monitor within a second.
      if (status.status === 'running') t.pids.set(r.id, status.pid);
      return;
    case 'paused':
      // A checkpoint's container is deleted after the pause returned (pause/checkpoint.ts); a
      // crash before that left it, and restore needs its id free. (A frozen one is runc's.)
      if (status && driver.canCheckpoint) await driver.delete(r.id);
      return; // resume() rebuilds whatever a reboot removed
    default:
      return;
  }
}

/**
 * A sandbox can stop on its own: under gVisor the sandbox is the unit the host OOM killer
 * stops. Its guest connections would then hang until TCP gives up, so the monitor notices
 * the missing process, marks the sandbox failed (saying why) and fails in-flight calls.
 */
export async function checkLiveness(t: SandboxTable): Promise<void> {
  for (const [id, pid] of t.pids) {
    if (isAlive(pid)) continue;
    const r = t.records.get(id);
    if (!r || r.state !== 'running') {
      t.pids.delete(id);
      continue;
    }
    await t.serialized(id, async () => {
      if (!t.pids.has(id)) return;
      const status = await t.driver(r.runtime).status(id);
      if (status?.status === 'running' && status.pid !== pid) return void t.pids.set(id, status.pid);
      t.pids.delete(id);
      const oom = (await oomKills(id)) > 0;
      const pidsHit = !oom && (await pidsLimitHits(id)) > 0;
      await t.markFailed(r, oom
        ? `the sandbox ran out of memory (limit ${r.limits.memoryMiB} MiB) and was stopped; create it with a larger memoryMiB`
        : pidsHit ? `the sandbox exceeded the host's task limit for it (pids ${r.limits.pids}) and was stopped`
        : `the sandbox stopped unexpectedly; see ${t.paths(id).log}`);
    }).catch((err) => t.log('liveness check failed', { id, err: String(err) }));
  }
}

/**
 * Whether a sandbox whose checkpoint a crash interrupted still runs. runsc's state file still
 * says running after a checkpoint stopped the sandbox, so the kernel decides. A checkpoint that
 * saved its images stops the sandbox just after it ends, so a sandbox still alive beside images
 * may be on its way out: it gets the time to go before it counts as running.
 */
async function aliveAfterCheckpoint(status: { status: string; pid: number }, images: string): Promise<boolean> {
  if ((status.status !== 'running' && status.status !== 'paused') || !isAlive(status.pid)) return false;
  return !(hasImages(images) && await exits(status.pid, STOP_AFTER_CHECKPOINT_MS));
}

/** Waits, up to a checkpoint's own time limit, until no process writes into `images`. */
async function untilNoWriters(images: string): Promise<void> {
  const deadline = Date.now() + CHECKPOINT_TIMEOUT_MS;
  while (processesNaming(images).length > 0 && Date.now() < deadline) await sleep(200);
}

const hasImages = (dir: string) => existsSync(dir) && readdirSync(dir).length > 0;
