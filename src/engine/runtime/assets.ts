/**
 * Runtime-class assets: a binary named by `{url, sha256}` is fetched once into a
 * content-addressed cache (`<cacheDir>/sha256/<hex>`), verified, and used from there only.
 * A mismatch is refused, so a sandbox never runs a binary nobody pinned.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AgentboxError } from '../../api/errors.ts';

export interface Asset {
  /** file:// or http(s):// */
  url: string;
  /** Lowercase hex SHA-256 of the file's content. */
  sha256: string;
}

/** A binary already on this host, pinned as it is now. */
export async function localAsset(path: string): Promise<Asset> {
  return { url: pathToFileURL(path).href, sha256: await sha256OfFile(path) };
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function download(url: string): Promise<Buffer> {
  if (url.startsWith('file://')) return readFile(fileURLToPath(url));
  if (!/^https?:\/\//.test(url)) {
    throw new AgentboxError('invalid_argument', `asset url '${url}' must be file://, http:// or https://`);
  }
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new AgentboxError('unavailable', `downloading ${url} failed: ${(err as Error).message}`, { cause: err });
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new AgentboxError('unavailable', `downloading ${url} answered HTTP ${res.status}`);
  }
  return Buffer.from(await res.arrayBuffer());
}

/**
 * Returns the local path of the verified asset, fetching it on first use. Concurrent callers
 * may both download; the rename into place is atomic and both write identical content.
 */
export async function fetchAsset(asset: Asset, cacheDir: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(asset.sha256)) {
    throw new AgentboxError('invalid_argument', `asset sha256 '${asset.sha256}' is not 64 lowercase hex digits`);
  }
  const dir = join(cacheDir, 'sha256');
  const path = join(dir, asset.sha256);
  const present = await stat(path).then(() => true, () => false);
  if (present) return path;
  const data = await download(asset.url);
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== asset.sha256) {
    throw new AgentboxError('integrity_error',
      `asset ${asset.url} has sha256 ${actual}, but ${asset.sha256} was pinned; refusing it. ` +
      'Fix the pinned sha256 in the runtime class or the asset at the url.',
      { details: { url: asset.url, expected: asset.sha256, actual } });
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, data);
    await chmod(tmp, 0o755);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return path;
}
