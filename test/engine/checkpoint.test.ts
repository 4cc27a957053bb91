/**
 * Pause/resume with memory (gVisor checkpoint/restore), fork into a new sandbox, snapshot
 * integrity checks, and runc's freeze-based pause.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { parseRecipe } from '../../src/engine/images/recipe.ts';
import { cgroupPath } from '../../src/engine/runtime/cgroups.ts';
import { waitFor } from '../support/wait.ts';
import { destroyAfter, sh, sleep, startTestEngine, type TestEngine } from './fixture.ts';

let t: TestEngine;
before(async () => {
  t = await startTestEngine('checkpoint');
  await t.templates.ensure('busybox');
});
after(() => t.cleanup());

/** A loop that counts in memory and publishes its count atomically to /tmp/count. */
const COUNTER = 'i=0; while true; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.05; done';
const startCounter = (id: string) => sh(t.engine, id, `(${COUNTER}) >/dev/null 2>&1 &`);
const readCount = async (id: string) => Number(await sh(t.engine, id, 'cat /tmp/count 2>/dev/null || echo 0'));

/** Resolves with the counter once it passes `n` (it runs at its own pace on a loaded machine). */
const countAbove = (id: string, n: number) =>
  waitFor(`the counter in ${id} to pass ${n}`, async () => { const c = await readCount(id); return c > n ? c : null; }, 30_000, 100);

describe('gvisor pause/resume', () => {
  it('frees the memory and continues processes where they stopped, on the same address', async (ctx) => {
    const s = await t.engine.run({ template: 'busybox' });
    destroyAfter(ctx, t.engine, s.id);
    await startCounter(s.id);
    await sh(t.engine, s.id, 'echo kept-in-shm > /dev/shm/marker');
    const before = await countAbove(s.id, 0);
    // Positive control: the same reading shows the running sandbox's memory.
    assert.ok((await t.engine.inspect(s.id)).memoryBytes > 0, 'a running sandbox is charged memory');
    const paused = await t.engine.pause(s.id);
    assert.equal(paused.state, 'paused');
    assert.equal(paused.pauseMode, 'checkpoint');
    assert.equal((await t.engine.inspect(s.id)).pid, undefined, 'no process runs while paused');
    // The stopped container (and its cgroups) is deleted just after the pause returned, off its path.
    await waitFor('the memory cgroup to be gone', () => !existsSync(join('/sys/fs/cgroup/memory', cgroupPath(s.id))), 10_000, 50);
    // 0 only when the sandbox has no memory cgroup left (a failed read is an error, not 0).
    assert.equal((await t.engine.inspect(s.id)).memoryBytes, 0, 'a paused sandbox holds no memory');
    await assert.rejects(t.engine.exec(s.id, { cmd: ['true'] }), (e: AgentboxError) => e.code === 'conflict');
    const resumed = await t.engine.resume(s.id);
    assert.equal(resumed.state, 'running');
    assert.equal(resumed.address, s.address);
    const after1 = await readCount(s.id);
    // The loop kept its in-memory count: it continues from where it was, it did not restart at 1.
    assert.ok(after1 >= before, `count ${after1} continues from ${before}`);
    assert.ok((await countAbove(s.id, after1)) > after1, 'the loop is still running');
    assert.equal(await sh(t.engine, s.id, 'cat /dev/shm/marker'), 'kept-in-shm');
    // Pause twice, resume twice: state survives repeated cycles.
    await t.engine.pause(s.id);
    await t.engine.resume(s.id);
    assert.equal(await sh(t.engine, s.id, 'cat /dev/shm/marker'), 'kept-in-shm');
    await assert.rejects(t.engine.resume(s.id), (e: AgentboxError) => e.code === 'conflict');
  });

  it('refuses a corrupted checkpoint and one taken by another runtime binary, and stays paused', async (ctx) => {
    const s = await t.engine.run({ template: 'busybox' });
    destroyAfter(ctx, t.engine, s.id);
    await t.engine.pause(s.id);
    const dir = join(t.home, 'sandboxes', s.id, 'checkpoint');
    const manifestPath = join(dir, 'manifest.json');
    const original = await readFile(manifestPath, 'utf8');
    const manifest = JSON.parse(original);
    // Foreign: the manifest names a different runsc build.
    await writeFile(manifestPath, JSON.stringify({ ...manifest, runtime: { ...manifest.runtime, sha256: 'f'.repeat(64) } }));
    await assert.rejects(t.engine.resume(s.id), (e: AgentboxError) => e.code === 'integrity_error' && /different gvisor binary/.test(e.message));
    await writeFile(manifestPath, original);
    // Corrupted: one byte appended to an image file.
    await appendFile(join(dir, manifest.files[0].path), 'x');
    await assert.rejects(t.engine.resume(s.id), (e: AgentboxError) => e.code === 'integrity_error' && /corrupted/.test(e.message));
    assert.equal(t.engine.get(s.id).state, 'paused');
  });
});

describe('fork', () => {
  it('restores a running copy with a new id, hostname, address and access token, leaving the source running', async (ctx) => {
    const s = await t.engine.run({ template: 'busybox', env: { ORIGIN: 'source' } });
    destroyAfter(ctx, t.engine, s.id);
    await startCounter(s.id);
    await sh(t.engine, s.id, 'echo on-disk > /home/user/file; echo in-shm > /dev/shm/f');
    await countAbove(s.id, 0);
    const f = await t.engine.fork(s.id, { env: { FORKED: 'yes' } });
    destroyAfter(ctx, t.engine, f.id);
    assert.notEqual(f.id, s.id);
    assert.notEqual(f.address, s.address);
    assert.notEqual(f.guest.accessToken, s.guest.accessToken);
    assert.equal(f.state, 'running');
    assert.equal(await sh(t.engine, f.id, 'hostname'), f.id);
    assert.equal(await sh(t.engine, f.id, 'cat /home/user/file /dev/shm/f'), 'on-disk\nin-shm');
    assert.ok((await countAbove(f.id, 0)) > 0);
    assert.equal(await sh(t.engine, f.id, 'echo $ORIGIN-$FORKED'), 'source-yes');
    // Diverge: each has its own writable layer.
    await sh(t.engine, f.id, 'echo fork > /home/user/file');
    assert.equal(await sh(t.engine, s.id, 'cat /home/user/file'), 'on-disk');
    assert.equal(t.engine.get(s.id).state, 'running');
  });

  it('keeps a snapshot restorable after its source is gone, and refuses unknown snapshots', async (ctx) => {
    const s = await t.engine.run({ template: 'busybox' });
    destroyAfter(ctx, t.engine, s.id);
    await sh(t.engine, s.id, 'echo snap > /home/user/x');
    const snap = await t.engine.snapshot(s.id);
    await t.engine.destroy(s.id);
    assert.ok(t.engine.listSnapshots().some((x) => x.id === snap.id));
    const r = await t.engine.restoreSnapshot(snap.id);
    destroyAfter(ctx, t.engine, r.id);
    assert.equal(await sh(t.engine, r.id, 'cat /home/user/x'), 'snap');
    await t.engine.destroy(r.id);
    await t.engine.deleteSnapshot(snap.id);
    await assert.rejects(t.engine.restoreSnapshot(snap.id), (e: AgentboxError) => e.code === 'not_found');
  });

  it("resumes and snapshots a sandbox whose template's ready check no longer passes: its memory is what it was", { timeout: 120_000 }, async (ctx) => {
    // A ready timeout far beyond the test's: a resume or snapshot that ran the check would hang.
    await t.templates.build(parseRecipe({
      name: 'ready-once', from: { template: 'busybox' },
      start: { cmd: ['/bin/sh', '-c', 'touch /tmp/ready; exit 3'] }, ready: { cmd: ['test', '-f', '/tmp/ready'], timeoutMs: 600_000 },
    }));
    const s = await t.engine.run({ template: 'ready-once' });
    destroyAfter(ctx, t.engine, s.id);
    // The user's work makes the check fail; its start command has ended with an error too.
    await sh(t.engine, s.id, 'rm /tmp/ready; echo kept > /tmp/work');
    const snap = await t.engine.snapshot(s.id);
    ctx.after(() => t.engine.deleteSnapshot(snap.id).catch(() => undefined));
    await t.engine.pause(s.id);
    assert.equal((await t.engine.resume(s.id)).state, 'running');
    assert.equal(await sh(t.engine, s.id, 'cat /tmp/work; test -f /tmp/ready || echo no-ready'), 'kept\nno-ready');
  });
});

describe('runc pause', () => {
  it('freezes the cgroup (memory stays) and says so', async (ctx) => {
    const s = await t.engine.run({ template: 'busybox', runtime: 'runc' });
    destroyAfter(ctx, t.engine, s.id);
    await startCounter(s.id);
    await countAbove(s.id, 0);
    const p = await t.engine.pause(s.id);
    assert.equal(p.pauseMode, 'freeze');
    assert.equal((await readFile(join('/sys/fs/cgroup/freezer', cgroupPath(s.id), 'freezer.state'), 'utf8')).trim(), 'FROZEN');
    const before = Number(await readFile(join(t.home, 'sandboxes', s.id, 'disk', 'upper', 'tmp', 'count'), 'utf8'));
    // Not a wait but an observation window: eight of the counter's 50 ms ticks pass, none counts.
    await sleep(400);
    const still = Number(await readFile(join(t.home, 'sandboxes', s.id, 'disk', 'upper', 'tmp', 'count'), 'utf8'));
    assert.equal(still, before, 'a frozen sandbox does not run');
    assert.ok((await t.engine.inspect(s.id)).memoryBytes > 0);
    await assert.rejects(t.engine.snapshot(s.id), (e: AgentboxError) => e.code === 'conflict' || e.code === 'not_supported');
    await t.engine.resume(s.id);
    assert.ok((await countAbove(s.id, before)) > before);
  });
});

describe('filesystem-only pause', () => {
  for (const runtime of ['gvisor', 'runc'] as const) {
    it(`${runtime}: stops the sandbox, keeps its files, and boots it again on resume`, async (ctx) => {
      const s = await t.engine.run({ template: 'busybox', runtime });
      destroyAfter(ctx, t.engine, s.id);
      await sh(t.engine, s.id, 'echo kept > /home/user/f; echo lost > /dev/shm/f');
      const p = await t.engine.pause(s.id, { memory: false });
      assert.equal(p.state, 'paused');
      assert.equal(p.pausedWithMemory, false);
      assert.equal((await t.engine.inspect(s.id)).pid, undefined);
      const r = await t.engine.resume(s.id);
      assert.equal(r.state, 'running');
      assert.equal(r.pausedWithMemory, undefined);
      assert.equal(await sh(t.engine, s.id, 'cat /home/user/f; cat /dev/shm/f 2>/dev/null || echo shm-empty'), 'kept\nshm-empty');
    });
  }
});

describe('resume without memory', () => {
  for (const runtime of ['gvisor', 'runc'] as const) {
    it(`${runtime}: discards what the pause kept and boots from the files`, async (ctx) => {
      const s = await t.engine.run({ template: 'busybox', runtime });
      destroyAfter(ctx, t.engine, s.id);
      await startCounter(s.id);
      await sh(t.engine, s.id, 'echo kept > /home/user/f; echo lost > /dev/shm/f');
      await t.engine.pause(s.id);
      const r = await t.engine.resume(s.id, { memory: false });
      assert.equal(r.state, 'running');
      assert.equal(await sh(t.engine, s.id, 'cat /home/user/f; cat /dev/shm/f 2>/dev/null || echo shm-empty'), 'kept\nshm-empty');
      assert.equal(await sh(t.engine, s.id, 'ps -o args | grep -c "[m]v /tmp/c.new" || true'), '0', 'the counting loop did not survive');
      assert.equal(existsSync(join(t.home, 'sandboxes', s.id, 'checkpoint')), false, 'the checkpoint images are gone');
    });
  }
});
