/**
 * Snapshots: take one of a running sandbox (it continues from the very images written), list
 * and delete them, restore one as a new sandbox (re-keying its guest), and fork (both at once).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError, asAgentboxError, conflict, notFound } from '../api/errors.ts';
import { newSnapshotId, SNAPSHOT_ID_RE } from '../api/ids.ts';
import { createGuestClient } from '../envd/client.ts';
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { copyTree, writeFileAtomic } from './fsutil.ts';
import { materialize, newId, newSecret, validateEnv } from './lifecycle.ts';
import type { EngineRecord } from './sandbox-record.ts';
import type { SandboxTable } from './sandbox-table.ts';
import { IMAGES, MANIFEST, sealSnapshot, snapshotInfoOfManifest, verifySnapshot, type SealOptions, type SnapshotManifest } from './snapshots.ts';
import type { ForkRequest, SandboxInfo, SnapshotInfo } from './types.ts';

/** What a snapshot keeps of its source sandbox besides memory and files (engine-private). */
export type SnapshotSandbox = Pick<EngineRecord, 'limits' | 'env' | 'egress' | 'imageConfig' | 'accessToken' | 'initSecret'>;
const SANDBOX_FILE = 'sandbox.json';

/**
 * Checkpoints running sandbox `r` into snapshot directory `dir` (which stops it: the liveness
 * monitor stops watching it first) and keeps its writable layer and what a restore needs beside
 * them, sealed with `seal`.
 */
export async function captureSnapshot(t: SandboxTable, r: EngineRecord, dir: string, snapshotId: string, seal?: SealOptions): Promise<SnapshotManifest> {
  const driver = t.driver(r.runtime);
  t.pids.delete(r.id);
  await mkdir(join(dir, IMAGES), { recursive: true });
  await driver.checkpoint(r.id, join(dir, IMAGES));
  await copyTree(t.paths(r.id).upper, join(dir, 'upper'));
  const manifest = await sealSnapshot(dir, snapshotId, r, driver.binarySha256, seal);
  const saved: SnapshotSandbox = { limits: r.limits, env: r.env, egress: r.egress, imageConfig: r.imageConfig, accessToken: r.accessToken, initSecret: r.initSecret };
  await writeFileAtomic(join(dir, SANDBOX_FILE), JSON.stringify(saved));
  return manifest;
}

export function readSnapshotSandbox(dir: string): SnapshotSandbox {
  return JSON.parse(readFileSync(join(dir, SANDBOX_FILE), 'utf8')) as SnapshotSandbox;
}

export async function snapshot(t: SandboxTable, id: string): Promise<SnapshotInfo> {
  return t.serialized(id, async () => {
    const r = t.record(id);
    t.requireRunning(r, 'snapshot');
    // A snapshot holds files and memory of one instant; a volume's files live on outside it, and
    // a copy restored later would find them changed under its open files (docs/volumes.md).
    if (r.volumes?.length) throw conflict(`sandbox ${id} mounts volumes; a sandbox with volumes cannot be snapshotted or forked`, { volumes: r.volumes.map((v) => v.path) });
    const driver = t.driver(r.runtime);
    if (!driver.canCheckpoint) {
      throw new AgentboxError('not_supported', `the ${r.runtime} runtime class cannot take memory snapshots on this host; use the gvisor runtime class`);
    }
    const snapshotId = newSnapshotId();
    const dir = join(t.snapshotsDir, snapshotId);
    try {
      // Checkpoint stops the sandbox, so its writable layer is copied at the same instant
      // as its memory; then the sandbox continues from the very images just written. The
      // state says so on disk: a crash in between must not leave it stopped (recovery.ts).
      await t.setState(r, 'snapshotting', { snapshotDir: dir });
      const manifest = await captureSnapshot(t, r, dir, snapshotId);
      await continueFrom(t, r, join(dir, IMAGES));
      await t.setState(r, 'running', { snapshotDir: undefined });
      return snapshotInfoOfManifest(manifest);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      const status = await driver.status(id);
      if (status?.status !== 'running') await t.markFailed(r, `snapshot failed: ${asAgentboxError(err).message}`);
      else await t.setState(r, 'running', { snapshotDir: undefined });
      throw asAgentboxError(err);
    }
  });
}

/** Restarts a sandbox a checkpoint stopped from that checkpoint's images, over its own writable layer. */
export async function continueFrom(t: SandboxTable, r: EngineRecord, images: string): Promise<void> {
  const driver = t.driver(r.runtime);
  const p = t.paths(r.id);
  await driver.delete(r.id);
  // The restore keeps no promise about connections made before it (see server/guest-files.ts forget).
  t.dropGuest(r.id);
  await t.addressLink(r);
  t.pids.set(r.id, await driver.restore(r.id, p.bundle, images, p.log));
  await t.waitGuest(r);
}

export function listSnapshots(t: SandboxTable): SnapshotInfo[] {
  if (!existsSync(t.snapshotsDir)) return [];
  const out: SnapshotInfo[] = [];
  for (const name of readdirSync(t.snapshotsDir)) {
    try {
      out.push(snapshotInfoOfManifest(JSON.parse(readFileSync(join(t.snapshotsDir, name, MANIFEST), 'utf8')) as SnapshotManifest));
    } catch {
      // no manifest: an unfinished snapshot, invisible until deleted
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The directory of an existing snapshot, or not_found. */
function snapshotDir(t: SandboxTable, snapshotId: string): string {
  if (!SNAPSHOT_ID_RE.test(snapshotId)) throw notFound('snapshot', snapshotId);
  const dir = join(t.snapshotsDir, snapshotId);
  if (!existsSync(dir)) throw notFound('snapshot', snapshotId);
  return dir;
}

export async function deleteSnapshot(t: SandboxTable, snapshotId: string): Promise<void> {
  await rm(snapshotDir(t, snapshotId), { recursive: true, force: true });
}

export async function restoreSnapshot(t: SandboxTable, snapshotId: string, req: ForkRequest = {}): Promise<SandboxInfo> {
  const dir = snapshotDir(t, snapshotId);
  const manifest = await verifySnapshot(dir, (runtime) => t.driver(runtime).binarySha256);
  const driver = t.driver(manifest.runtime.name);
  const saved = readSnapshotSandbox(dir);
  validateEnv(req.env ?? {});
  const record: EngineRecord = {
    id: newId(t, req.id),
    template: manifest.template,
    templateBuildId: manifest.templateBuildId,
    layers: manifest.layers,
    imageConfig: saved.imageConfig,
    runtime: manifest.runtime.name,
    runtimeSha256: driver.binarySha256,
    state: 'creating',
    createdAt: new Date().toISOString(),
    slot: t.allocateSlot(),
    // Snapshots taken before disks had a size get the default one.
    limits: { ...saved.limits, diskMiB: saved.limits.diskMiB ?? t.diskSizes.defaultMiB },
    env: { ...saved.env, ...(req.env ?? {}) },
    egress: saved.egress,
    accessToken: req.accessToken ?? newSecret(),
    // Fresh: the restored guest still holds the source's secret, and rekeyGuest swaps it.
    initSecret: newSecret(),
    fromSnapshot: snapshotId,
  };
  await restoreAsNew(t, record, dir, saved);
  return t.info(record);
}

/**
 * Makes new sandbox `record` from the snapshot in `dir` (its memory and writable layer) and
 * re-keys the restored guest, which still answers to the source's token and init secret
 * (`source`). With `background`, runsc returns once the sandbox runs and loads the rest of its
 * memory meanwhile (driver.ts); the images must then stay until the sandbox is gone or paused.
 */
export async function restoreAsNew(t: SandboxTable, record: EngineRecord, dir: string, source: SnapshotSandbox, opts: { background?: boolean } = {}): Promise<void> {
  const driver = t.driver(record.runtime);
  await materialize(t, record, async (p) => {
    const phases = t.phases('restore', record.id);
    await phases.time('address', () => t.addressLink(record));
    t.pids.set(record.id, await phases.time('restore', () => driver.restore(record.id, p.bundle, join(dir, IMAGES), p.log, opts)));
    // Before the record says running: a crash in between leaves a 'creating' record, removed.
    await phases.time('rekey', () => rekeyGuest(t, record, source.accessToken, source.initSecret));
    await phases.time('record', () => t.setState(record, 'running'));
    phases.done();
  }, (p) => copyTree(join(dir, 'upper'), p.upper));
}

async function rekeyGuest(t: SandboxTable, record: EngineRecord, sourceToken: string, sourceInitSecret: string): Promise<void> {
  const viaOld = createGuestClient({ url: `http://${t.link(record).sandboxIp}:${GUEST_PORT}`, accessToken: sourceToken });
  try {
    await viaOld.waitUntilReady({ timeoutMs: t.readyTimeoutMs });
    await viaOld.init(sourceInitSecret, { accessToken: record.accessToken, initSecret: record.initSecret, envVars: record.env });
  } finally {
    viaOld.close();
  }
}

export async function fork(t: SandboxTable, id: string, req: ForkRequest = {}): Promise<SandboxInfo> {
  const snap = await snapshot(t, id);
  try {
    return await restoreSnapshot(t, snap.id, req);
  } finally {
    await deleteSnapshot(t, snap.id).catch(() => undefined);
  }
}
