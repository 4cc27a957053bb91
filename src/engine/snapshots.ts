/**
 * Snapshot manifests. A snapshot is a directory with the runtime's checkpoint images, the
 * sandbox's writable layer (for snapshots that outlive their sandbox), and `manifest.json`,
 * written last: a directory without a manifest is an unfinished snapshot and is never restored.
 * The manifest pins the runtime binary that took the checkpoint (a checkpoint is only
 * meaningful to the same sentry build) and the size and sha256 of every file, so a corrupted or
 * foreign snapshot is refused with a clear error instead of a crashed restore.
 *
 * A pause's checkpoint is sealed by size only (`PAUSE_SEAL`): it never leaves the host, lives on
 * the sandbox's own checkpoint disk image that only runsc writes, and is read back by the same
 * binary on resume, while hashing it meant reading every byte of the sandbox's memory once more
 * at pause and again at resume: for 512 MiB touched that was more than the checkpoint itself
 * (BENCHMARKS.md, issue #13). Snapshots, which are kept, forked and restored later, keep their
 * hashes.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { AgentboxError } from '../api/errors.ts';
import { writeFileAtomic } from './fsutil.ts';
import { sha256OfFile } from './runtime/assets.ts';
import type { EngineRecord } from './sandbox-record.ts';
import { RUNTIME_CLASS_NAMES, type SnapshotInfo } from './types.ts';

export const MANIFEST = 'manifest.json';
/** The subdirectory of a snapshot (or a pause's checkpoint) that holds the runtime's images. */
export const IMAGES = 'images';

const ManifestSchema = z.object({
  version: z.literal(1),
  snapshotId: z.string(),
  sandboxId: z.string(),
  template: z.string(),
  templateBuildId: z.string(),
  layers: z.array(z.string()),
  runtime: z.object({ name: z.enum(RUNTIME_CLASS_NAMES), sha256: z.string() }),
  createdAt: z.string(),
  /** Checkpoint image files, relative to the snapshot dir. */
  /** `sha256` is absent for a pause's checkpoint (sealed by size only, see above). */
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string().optional() })),
});
export type SnapshotManifest = z.infer<typeof ManifestSchema>;

export interface SealOptions {
  /** Hash every image file's content (snapshots); without, sizes only (a pause's checkpoint). */
  hash: boolean;
}

export const PAUSE_SEAL: SealOptions = { hash: false };

async function listImageFiles(dir: string, imagesSubdir: string, opts: SealOptions): Promise<SnapshotManifest['files']> {
  const root = join(dir, imagesSubdir);
  const out: SnapshotManifest['files'] = [];
  for (const name of (await readdir(root)).sort()) {
    const path = join(root, name);
    const s = await stat(path);
    if (!s.isFile()) continue;
    out.push({ path: relative(dir, path), size: s.size, ...(opts.hash ? { sha256: await sha256OfFile(path) } : {}) });
  }
  return out;
}

async function writeManifest(dir: string, manifest: SnapshotManifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
}

/**
 * Seals the images in `dir/images`, taken of sandbox `r` by the binary whose sha256 is
 * `runtimeSha256`, with their manifest: from here on the snapshot is complete.
 */
export async function sealSnapshot(dir: string, snapshotId: string, r: EngineRecord, runtimeSha256: string, opts: SealOptions = { hash: true }): Promise<SnapshotManifest> {
  const manifest: SnapshotManifest = {
    version: 1,
    snapshotId,
    sandboxId: r.id,
    template: r.template,
    templateBuildId: r.templateBuildId,
    layers: r.layers,
    runtime: { name: r.runtime, sha256: runtimeSha256 },
    createdAt: new Date().toISOString(),
    files: await listImageFiles(dir, IMAGES, opts),
  };
  await writeManifest(dir, manifest);
  return manifest;
}

/** The engine's public view of a snapshot. */
export function snapshotInfoOfManifest(m: SnapshotManifest): SnapshotInfo {
  return { id: m.snapshotId, sandboxId: m.sandboxId, template: m.template, runtime: m.runtime.name, createdAt: m.createdAt };
}

/**
 * Reads and checks a snapshot before restore: complete, uncorrupted, and taken by the binary
 * this engine runs for the snapshot's runtime class (`runtimeSha256Of`; throws when the class
 * is unavailable). Throws integrity_error naming what is wrong.
 */
export async function verifySnapshot(dir: string, runtimeSha256Of: (runtime: SnapshotManifest['runtime']['name']) => string): Promise<SnapshotManifest> {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) {
    throw new AgentboxError('integrity_error', `snapshot ${dir} has no manifest: it was never completed and cannot be restored`);
  }
  let manifest: SnapshotManifest;
  try {
    manifest = ManifestSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new AgentboxError('integrity_error', `snapshot manifest ${file} is unreadable or corrupted: ${(err as Error).message}`, { cause: err });
  }
  const runtimeSha256 = runtimeSha256Of(manifest.runtime.name);
  if (manifest.runtime.sha256 !== runtimeSha256) {
    throw new AgentboxError('integrity_error',
      `snapshot ${manifest.snapshotId} was taken by a different ${manifest.runtime.name} binary (sha256 ${manifest.runtime.sha256.slice(0, 12)}…) ` +
      `than the one this engine runs (${runtimeSha256.slice(0, 12)}…); a checkpoint can only be restored by the binary that took it. ` +
      'Restore it with that runtime binary, or create a new sandbox instead.',
      { details: { snapshotRuntime: manifest.runtime.sha256, engineRuntime: runtimeSha256 } });
  }
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    const s = await stat(path).catch(() => undefined);
    if (!s || s.size !== f.size || (f.sha256 !== undefined && (await sha256OfFile(path)) !== f.sha256)) {
      throw new AgentboxError('integrity_error', `snapshot ${manifest.snapshotId} is corrupted: ${f.path} does not match its manifest`, {
        details: { file: f.path },
      });
    }
  }
  return manifest;
}
