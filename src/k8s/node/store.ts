// The object store a node agent keeps its snapshots in besides its own disk (issue 14 §3), so a
// snapshot taken on one node can be restored on another: an S3-compatible bucket, objects under
// `<prefix><namespace>/<snapshotId>/`, reached with AWS's S3 client (credentials from the
// environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which the DaemonSet takes from a Secret).
// The manifest is uploaded last and downloaded first: a snapshot whose upload never finished has
// none, and a download fetches exactly the files the manifest names, never a path outside the
// snapshot; the caller verifies their sha256s (manifest.ts) before a restore.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { AgentboxError } from '../../api/errors.ts';
import { MANIFEST, parseManifest } from './manifest.ts';
import { IMAGES_DIR } from './wrapper.ts';

export interface S3StoreOptions {
  bucket: string;
  /** An S3-compatible endpoint (MinIO, Ceph, moto…); AWS's own when unset. */
  endpoint?: string;
  region: string;
  /** Key prefix of every snapshot, e.g. `agentbox/`. */
  prefix?: string;
}

/** A file a manifest may name: one image file, no directory above the snapshot. */
const IMAGE_FILE = new RegExp(`^${IMAGES_DIR}/[A-Za-z0-9._-]+$`);

const failed = (what: string, e: unknown) =>
  new AgentboxError('unavailable', `object store: ${what} failed: ${(e as Error).message}`);

export class S3SnapshotStore {
  readonly storage = 'S3' as const;
  private readonly s3: S3Client;

  constructor(private readonly o: S3StoreOptions) {
    // Path-style addressing: S3-compatible servers on a plain host:port have no bucket subdomains.
    this.s3 = new S3Client({ region: o.region, ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}) });
  }

  private key(namespace: string, snapshotId: string, file = ''): string {
    return `${this.o.prefix ?? ''}${namespace}/${snapshotId}/${file}`;
  }

  location(namespace: string, snapshotId: string): string {
    return `s3://${this.o.bucket}/${this.key(namespace, snapshotId)}`;
  }

  /** Uploads a sealed snapshot: its image files, then its manifest. */
  async upload(namespace: string, snapshotId: string, dir: string, files: string[]): Promise<void> {
    for (const file of [...files, MANIFEST]) {
      const path = join(dir, file);
      try {
        await this.s3.send(new PutObjectCommand({
          Bucket: this.o.bucket, Key: this.key(namespace, snapshotId, file),
          Body: createReadStream(path), ContentLength: (await stat(path)).size,
        }));
      } catch (e) {
        throw failed(`upload of ${file} of snapshot ${snapshotId}`, e);
      }
    }
  }

  /** Downloads a snapshot into `dir` (absent until complete: written beside it, then renamed). */
  async download(namespace: string, snapshotId: string, dir: string): Promise<void> {
    const partial = `${dir}.download`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(join(partial, IMAGES_DIR), { recursive: true, mode: 0o700 });
    try {
      const manifestText = await this.getText(namespace, snapshotId, MANIFEST);
      let files: string[];
      try {
        files = parseManifest(manifestText).files.map((f) => f.path);
      } catch (e) {
        throw new AgentboxError('integrity_error', `snapshot ${snapshotId} in the object store has an unreadable or corrupted manifest: ${(e as Error).message}`);
      }
      const outside = files.find((f) => !IMAGE_FILE.test(f));
      if (outside) throw new AgentboxError('integrity_error', `snapshot ${snapshotId} in the object store names a file outside its images: ${JSON.stringify(outside)}`);
      for (const file of files) {
        const body = await this.get(namespace, snapshotId, file);
        await pipeline(body, createWriteStream(join(partial, file), { mode: 0o600 }));
      }
      await writeFile(join(partial, MANIFEST), manifestText, { mode: 0o600 });
      await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
      await rename(partial, dir);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      throw e;
    }
  }

  /** Deletes every object of a snapshot (a half-finished upload's too). */
  async delete(namespace: string, snapshotId: string): Promise<void> {
    try {
      const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: this.key(namespace, snapshotId) }));
      const keys = (listed.Contents ?? []).map((c) => ({ Key: c.Key! }));
      if (keys.length) await this.s3.send(new DeleteObjectsCommand({ Bucket: this.o.bucket, Delete: { Objects: keys } }));
    } catch (e) {
      throw failed(`delete of snapshot ${snapshotId}`, e);
    }
  }

  private async get(namespace: string, snapshotId: string, file: string): Promise<Readable> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.key(namespace, snapshotId, file) }));
      return res.Body as Readable;
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchKey') {
        throw new AgentboxError('not_found', `snapshot ${snapshotId} of namespace ${namespace} is not in the object store (no ${file} at ${this.location(namespace, snapshotId)})`);
      }
      throw failed(`download of ${file} of snapshot ${snapshotId}`, e);
    }
  }

  private async getText(namespace: string, snapshotId: string, file: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.get(namespace, snapshotId, file)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  close(): void {
    this.s3.destroy();
  }
}
