// A pause's checkpoint is sealed by size, a snapshot by size and content: each refuses what it can see changed.
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentboxError } from '../api/errors.ts';
import type { EngineRecord } from './sandbox-record.ts';
import { IMAGES, PAUSE_SEAL, sealSnapshot, verifySnapshot } from './snapshots.ts';

const RUNTIME = 'a'.repeat(64);
const record = { id: 'sbx1', template: 'busybox', templateBuildId: 'b1', layers: ['/layers/1'], runtime: 'gvisor' } as EngineRecord;

async function checkpointDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentbox-seal-'));
  await mkdir(join(dir, IMAGES));
  await writeFile(join(dir, IMAGES, 'pages.img'), 'memory pages');
  await writeFile(join(dir, IMAGES, 'checkpoint.img'), 'sentry state');
  return dir;
}

const corrupted = (e: AgentboxError) => e.code === 'integrity_error' && /corrupted: images\/pages.img/.test(e.message);

test('a pause seal records sizes only and refuses an image whose size changed', async (t) => {
  const dir = await checkpointDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const m = await sealSnapshot(dir, 'pause-sbx1', record, RUNTIME, PAUSE_SEAL);
  assert.deepEqual(m.files.map((f) => [f.path, f.size, f.sha256]), [['images/checkpoint.img', 12, undefined], ['images/pages.img', 12, undefined]]);
  assert.equal((await verifySnapshot(dir, () => RUNTIME)).snapshotId, 'pause-sbx1');
  await appendFile(join(dir, IMAGES, 'pages.img'), 'x');
  await assert.rejects(verifySnapshot(dir, () => RUNTIME), corrupted);
});

test('a snapshot seal records content hashes and refuses a same-size change', async (t) => {
  const dir = await checkpointDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const m = await sealSnapshot(dir, 'snap1', record, RUNTIME);
  assert.ok(m.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256 ?? '')), 'every file is hashed');
  const pages = join(dir, IMAGES, 'pages.img');
  await writeFile(pages, (await readFile(pages, 'utf8')).replace('memory', 'MEMORY'));
  await assert.rejects(verifySnapshot(dir, () => RUNTIME), corrupted);
});
