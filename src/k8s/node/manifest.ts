// The manifest of a pod's memory snapshot on a node, as on one machine (src/engine/snapshots.ts):
// written last, so a directory without one is unfinished; it pins the runsc binary that took the
// checkpoint (a checkpoint is only meaningful to the same sentry build) and the size and sha256
// of every image file, and names the pod and its containers. The node's runsc config lets a
// restore through with a different spec (`restore-spec-validation = "warning"`, since every new
// pod's spec names its new UID), so this check is what stands between a snapshot and a restore:
// a corrupted snapshot, one from another runsc or one of other containers is refused, with why.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentboxError } from '../../api/errors.ts';
import { IMAGES_DIR } from './wrapper.ts';

export const MANIFEST = 'manifest.json';

const ContainerSchema = z.object({ name: z.string(), image: z.string() });
export type SnapshotContainer = z.infer<typeof ContainerSchema>;

const ManifestSchema = z.object({
  version: z.literal(1),
  snapshotId: z.string(),
  node: z.string(),
  pod: z.object({ namespace: z.string(), name: z.string(), uid: z.string() }),
  /** The pod's app containers (not the pause container), by name: gVisor restores them by name. */
  containers: z.array(ContainerSchema),
  runtime: z.object({ name: z.literal('runsc'), sha256: z.string() }),
  createdAt: z.string(),
  /** Checkpoint image files, relative to the snapshot directory. */
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string() })),
});
export type NodeSnapshotManifest = z.infer<typeof ManifestSchema>;

/** A manifest's JSON, checked against its schema (throws on anything else). */
export const parseManifest = (text: string): NodeSnapshotManifest => ManifestSchema.parse(JSON.parse(text));

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * An image reference as containerd names it (CRI's image-name annotation): `busybox` is
 * `docker.io/library/busybox:latest`, so a pod spec's short name matches what the node ran.
 */
export function normalizeImageRef(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  let out = hasDomain ? ref : `docker.io/${slash < 0 ? 'library/' : ''}${ref}`;
  const lastPart = out.slice(out.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !out.includes('@')) out += ':latest';
  return out;
}

/** Seals the checkpoint images in `dir/images` with their manifest: from here on the snapshot is complete. */
export async function sealNodeSnapshot(dir: string, m: Omit<NodeSnapshotManifest, 'version' | 'files'>): Promise<NodeSnapshotManifest> {
  const files: NodeSnapshotManifest['files'] = [];
  for (const name of (await readdir(join(dir, IMAGES_DIR))).sort()) {
    const path = join(dir, IMAGES_DIR, name);
    const s = await stat(path);
    if (s.isFile()) files.push({ path: `${IMAGES_DIR}/${name}`, size: s.size, sha256: await sha256OfFile(path) });
  }
  const manifest: NodeSnapshotManifest = { version: 1, ...m, files };
  await writeFile(join(dir, `${MANIFEST}.tmp`), JSON.stringify(manifest, null, 2));
  await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
  return manifest;
}

export interface RestoreExpectation {
  /** sha256 of the runsc binary this node runs. */
  runtimeSha256: string;
  /** The containers of the pod to be restored: the same names with the same images. */
  containers: SnapshotContainer[];
}

const refuse = (message: string, details: Record<string, unknown> = {}) => new AgentboxError('integrity_error', message, { details });

/** Reads and checks a snapshot before it may be restored; throws integrity_error naming what is wrong. */
export async function verifyNodeSnapshot(dir: string, want: RestoreExpectation): Promise<NodeSnapshotManifest> {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) throw refuse(`snapshot ${dir} has no manifest: it was never completed and cannot be restored`);
  let m: NodeSnapshotManifest;
  try {
    m = parseManifest(await readFile(file, 'utf8'));
  } catch (err) {
    throw refuse(`snapshot manifest ${file} is unreadable or corrupted: ${(err as Error).message}`);
  }
  if (m.runtime.sha256 !== want.runtimeSha256) {
    throw refuse(`snapshot ${m.snapshotId} was taken by a different runsc binary (sha256 ${m.runtime.sha256.slice(0, 12)}…) than this node runs ` +
      `(${want.runtimeSha256.slice(0, 12)}…); a checkpoint can only be restored by the binary that took it`,
    { snapshotRuntime: m.runtime.sha256, nodeRuntime: want.runtimeSha256 });
  }
  const describe = (cs: SnapshotContainer[]) => cs.map((c) => `${c.name}=${normalizeImageRef(c.image)}`).sort().join(', ');
  if (describe(m.containers) !== describe(want.containers)) {
    throw refuse(`snapshot ${m.snapshotId} holds containers [${describe(m.containers)}] but the pod to restore has [${describe(want.containers)}]`);
  }
  for (const f of m.files) {
    const path = join(dir, f.path);
    const s = await stat(path).catch(() => undefined);
    if (!s || s.size !== f.size || (await sha256OfFile(path)) !== f.sha256) {
      throw refuse(`snapshot ${m.snapshotId} is corrupted: ${f.path} does not match its manifest`, { file: f.path });
    }
  }
  return m;
}
