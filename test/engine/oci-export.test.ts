// OCI image layout archives for a node's containerd (src/engine/images/oci-export.ts): the
// layout is self-consistent (every digest is the sha256 of its blob, diff ids name the layers),
// names the image for `ctr images import`, keeps files, modes, owners and symlinks, and places an
// extra layer under its path. (scripts/k8s-env.sh `images` imports such archives into a real
// containerd; test/k8s/real-node.test.ts runs pods from them.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciArchive } from '../../src/engine/images/oci-export.ts';

describe('OCI archive export', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oci-export-'));
    mkdirSync(join(dir, 'root/bin'), { recursive: true });
    writeFileSync(join(dir, 'root/bin/tool'), '#!/bin/sh\necho tool\n');
    chownSync(join(dir, 'root/bin/tool'), 1000, 1000);
    chmodSync(join(dir, 'root/bin/tool'), 0o4755);
    symlinkSync('/bin/tool', join(dir, 'root/bin/link'));
    mkdirSync(join(dir, 'extra/lib'), { recursive: true });
    writeFileSync(join(dir, 'extra/lib/x.txt'), 'x');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const unpack = (archive: string) => {
    const out = mkdtempSync(join(dir, 'unpacked-'));
    execFileSync('tar', ['-C', out, '-xf', archive]);
    const json = (digest: string) => JSON.parse(readFileSync(blobPath(digest), 'utf8')) as Record<string, any>;
    const blobPath = (digest: string) => join(out, 'blobs/sha256', digest.replace('sha256:', ''));
    return { out, json, blobPath };
  };
  const sha = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  const listing = (tar: string) => execFileSync('tar', ['-tvf', tar, '--numeric-owner'], { encoding: 'utf8' });

  it('writes a consistent, named layout with the files as they are on disk', async () => {
    const archive = join(dir, 'img.tar');
    const digest = await writeOciArchive(archive, {
      ref: 'agentbox.local/t:latest', layers: [{ dir: join(dir, 'root') }, { dir: join(dir, 'extra'), under: '/opt/x' }],
      cmd: ['/bin/tool'], env: { A: '1' }, workdir: '/home/user', user: 'user',
    });
    const { out, json, blobPath } = unpack(archive);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].digest, digest);
    assert.deepEqual(index.manifests[0].annotations, { 'io.containerd.image.name': 'agentbox.local/t:latest', 'org.opencontainers.image.ref.name': 'latest' });
    assert.equal(sha(blobPath(digest)), digest, 'the manifest digest is its sha256');
    const manifest = json(digest);
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    for (const d of [manifest.config, ...manifest.layers]) {
      assert.equal(sha(blobPath(d.digest)), d.digest);
      assert.equal(readFileSync(blobPath(d.digest)).length, d.size);
    }
    const config = json(manifest.config.digest);
    assert.deepEqual(config.rootfs.diff_ids, manifest.layers.map((l: { digest: string }) => l.digest), 'uncompressed: diff ids are the layer digests');
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config.Cmd, ['/bin/tool']);
    assert.ok(config.config.Env.includes('A=1'));
    assert.equal(config.config.User, 'user');
    assert.equal(config.config.WorkingDir, '/home/user');

    const base = listing(blobPath(manifest.layers[0].digest));
    assert.match(base, /^-rwsr-xr-x 1000\/1000 .* \.\/bin\/tool$/m, 'setuid mode and numeric owner kept');
    assert.match(base, /^l.* \.\/bin\/link -> \/bin\/tool$/m, 'symlinks kept as links');
    const extra = listing(blobPath(manifest.layers[1].digest));
    assert.match(extra, / opt\/x\/lib\/x\.txt$/m, 'the extra layer sits under its path');
  });

  it('refuses a reference without a tag, and an image without layers', async () => {
    await assert.rejects(writeOciArchive(join(dir, 'bad.tar'), { ref: 'agentbox.local/t', layers: [{ dir: join(dir, 'root') }] }),
      (e: Error & { code?: string }) => e.code === 'invalid_argument' && /with a tag/.test(e.message));
    await assert.rejects(writeOciArchive(join(dir, 'bad.tar'), { ref: 'agentbox.local/t:1', layers: [] }),
      (e: Error & { code?: string }) => e.code === 'invalid_argument');
  });
});
