// A node snapshot's manifest: sealed over real files, then refused for each way it can be wrong.
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { MANIFEST, normalizeImageRef, sealNodeSnapshot, verifyNodeSnapshot } from './manifest.ts';

const RUNSC = 'a'.repeat(64);
const containers = [{ name: 'main', image: 'agentbox.local/busybox:latest' }];

describe('node snapshot manifest', () => {
  const root = mkdtempSync(join(tmpdir(), 'abx-manifest-'));
  let dir = '';
  after(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(async () => {
    dir = mkdtempSync(join(root, 'snap-'));
    mkdirSync(join(dir, 'images'));
    writeFileSync(join(dir, 'images', 'checkpoint.img'), 'state');
    writeFileSync(join(dir, 'images', 'pages.img'), Buffer.alloc(4096, 7));
    await sealNodeSnapshot(dir, {
      snapshotId: 's1', node: 'n1', pod: { namespace: 'ns', name: 'sb', uid: 'u1' }, containers,
      runtime: { name: 'runsc', sha256: RUNSC }, createdAt: '2026-01-01T00:00:00Z',
    });
  });

  const refusal = async (want: Parameters<typeof verifyNodeSnapshot>[1], re: RegExp) => {
    await assert.rejects(verifyNodeSnapshot(dir, want), (e: unknown) => e instanceof AgentboxError && e.code === 'integrity_error' && re.test(e.message));
  };

  it('records every image file with its size and sha256, and verifies', async () => {
    const m = await verifyNodeSnapshot(dir, { runtimeSha256: RUNSC, containers });
    assert.deepEqual(m.files.map((f) => [f.path, f.size]), [['images/checkpoint.img', 5], ['images/pages.img', 4096]]);
    assert.match(m.files[0]!.sha256, /^[0-9a-f]{64}$/);
  });

  it('refuses a file changed on disk, even at the same size', async () => {
    writeFileSync(join(dir, 'images', 'pages.img'), Buffer.alloc(4096, 8));
    await refusal({ runtimeSha256: RUNSC, containers }, /corrupted: images\/pages\.img does not match/);
  });

  it('refuses a missing file, a missing manifest and an unreadable one', async () => {
    unlinkSync(join(dir, 'images', 'checkpoint.img'));
    await refusal({ runtimeSha256: RUNSC, containers }, /images\/checkpoint\.img does not match/);
    writeFileSync(join(dir, MANIFEST), readFileSync(join(dir, MANIFEST), 'utf8').slice(0, 20));
    await refusal({ runtimeSha256: RUNSC, containers }, /unreadable or corrupted/);
    unlinkSync(join(dir, MANIFEST));
    await refusal({ runtimeSha256: RUNSC, containers }, /never completed/);
  });

  it('refuses a snapshot of another runsc binary, naming both', async () => {
    await refusal({ runtimeSha256: 'b'.repeat(64), containers }, /different runsc binary \(sha256 aaaaaaaaaaaa…\) than this node runs \(bbbbbbbbbbbb…\)/);
  });

  it('refuses a pod of other containers or images', async () => {
    await refusal({ runtimeSha256: RUNSC, containers: [{ name: 'main', image: 'other:1' }] }, /holds containers \[main=agentbox.local\/busybox:latest\] but the pod to restore has \[main=docker.io\/library\/other:1\]/);
    await refusal({ runtimeSha256: RUNSC, containers: [...containers, { name: 'side', image: 'x' }] }, /but the pod to restore has/);
  });

  it('compares images as containerd names them', async () => {
    assert.equal(normalizeImageRef('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeImageRef('me/app:1'), 'docker.io/me/app:1');
    assert.equal(normalizeImageRef('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(normalizeImageRef('ghcr.io/a/b@sha256:00'), 'ghcr.io/a/b@sha256:00');
    await verifyNodeSnapshot(dir, { runtimeSha256: RUNSC, containers: [{ name: 'main', image: 'agentbox.local/busybox' }] });
  });
});
