/** Runtime-class assets: fetched once into a content-addressed cache, verified by sha256. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { fetchAsset } from '../../src/engine/runtime/assets.ts';

let dir: string;
const content = Buffer.from('#!/bin/sh\necho pretend-runtime\n');
const sha = createHash('sha256').update(content).digest('hex');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentbox-assets-'));
  await writeFile(join(dir, 'bin'), content);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('fetchAsset', () => {
  it('fetches a file:// asset into the cache by its sha256, executable', async () => {
    const cache = join(dir, 'cache1');
    const path = await fetchAsset({ url: pathToFileURL(join(dir, 'bin')).href, sha256: sha }, cache);
    assert.equal(path, join(cache, 'sha256', sha));
    assert.deepEqual(await readFile(path), content);
    // Cached: the source may disappear.
    await rm(join(dir, 'bin'));
    assert.equal(await fetchAsset({ url: pathToFileURL(join(dir, 'bin')).href, sha256: sha }, cache), path);
    await writeFile(join(dir, 'bin'), content);
  });

  it('fetches over http and refuses a sha256 mismatch without caching anything', async () => {
    let hits = 0;
    const server = createServer((_req, res) => { hits++; res.end(content); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/runsc`;
    try {
      const cache = join(dir, 'cache2');
      const wrong = 'a'.repeat(64);
      await assert.rejects(fetchAsset({ url, sha256: wrong }, cache),
        (e: AgentboxError) => e.code === 'integrity_error' && e.message.includes(sha) && e.message.includes(wrong));
      const path = await fetchAsset({ url, sha256: sha }, cache);
      await fetchAsset({ url, sha256: sha }, cache);
      assert.equal(hits, 2, 'the second good fetch comes from the cache');
      assert.deepEqual(await readFile(path), content);
    } finally {
      server.close();
    }
  });

  it('rejects malformed pins and unsupported url schemes', async () => {
    await assert.rejects(fetchAsset({ url: 'file:///x', sha256: 'XYZ' }, dir), (e: AgentboxError) => e.code === 'invalid_argument');
    await assert.rejects(fetchAsset({ url: 'ftp://x/y', sha256: sha.replace(/^./, '0') }, join(dir, 'c3')), (e: AgentboxError) => e.code === 'invalid_argument');
  });
});
