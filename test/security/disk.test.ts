/**
 * Disk quota per sandbox (issue 8 item 5, audit H5): the writable layer lives in a sparse ext4
 * image of the sandbox's own on a loop device, so the kernel enforces its size. A sandbox that
 * fills its disk gets ENOSPC inside; its neighbours and the host keep working; pause, resume
 * and fork keep the limit; destroy, crashes and host reboots leak no loop device or mount.
 * On real gVisor and runc.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { attachDisk, loopDevices } from '../../src/engine/images/disk.ts';
import { createEngine } from '../../src/engine/index.ts';
import type { ExecResult } from '../../src/engine/types.ts';
import { sh, startTestEngine, type TestEngine } from '../engine/fixture.ts';
import { fetchAny } from '../support/fake-server.ts';
import { bootServerProcess, killServerProcess } from '../support/server-process.ts';
import { networkIndex, testNetwork } from '../support/test-network.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
/** Fills the disk: 200 MiB into a 64 MiB disk, synced, so ENOSPC cannot hide in a cache. */
const FILL = 'dd if=/dev/zero of=/home/user/fill bs=1M count=200 conv=fsync';

/** Loop devices backed by a file under `dir`, and mount points under it. */
function traces(dir: string): string[] {
  const loops = loopDevices().filter((l) => l.backingFile.startsWith(dir)).map((l) => `${l.device} → ${l.backingFile}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
  return [...loops, ...mounts];
}

/** Waits until nothing of `dir` is attached or mounted (loop autoclear is asynchronous). */
async function assertNoTraces(dir: string): Promise<void> {
  await waitFor(`no loop device or mount left for ${dir}`, () => {
    const left = traces(dir);
    if (left.length > 0) throw new Error(`still there: ${left.join(', ')}`);
    return true;
  }, 10_000, 100);
}

/** Bytes allocated on the host filesystem under `dir`, not descending into mounts. */
async function hostBytes(dir: string): Promise<number> {
  return Number((await runCommand('du', ['-sxB1', dir])).stdout.split('\t')[0]);
}

function assertFull(r: ExecResult): void {
  assert.notEqual(r.exitCode, 0, `dd must fail on a full disk: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /No space left on device/);
}

describe('disk quota per sandbox (engine)', () => {
  let t: TestEngine;
  before(async () => {
    t = await startTestEngine('sec-disk');
    await t.templates.ensure('busybox');
  }, { timeout: 600_000 });
  after(async () => {
    await t?.cleanup();
  });
  const dirOf = (id: string) => join(t.home, 'sandboxes', id);

  for (const runtime of ['gvisor', 'runc'] as const) {
    it(`${runtime}: a sandbox filling its disk gets ENOSPC; its neighbour and the host keep working`, { timeout: 300_000 }, async () => {
      const full = await t.engine.run({ template: 'busybox', runtime, limits: { diskMiB: 64 } });
      const neighbour = await t.engine.run({ template: 'busybox', runtime });
      assert.equal(full.limits.diskMiB, 64);
      assert.equal(neighbour.limits.diskMiB, 10_240, 'the engine default applies');

      assertFull(await t.engine.exec(full.id, { cmd: ['/bin/sh', '-c', FILL] }));
      const usage = (await t.engine.inspect(full.id)).disk!;
      assert.ok(usage.limitBytes <= 64 * MiB && usage.limitBytes > 56 * MiB, `limit ${usage.limitBytes}`);
      assert.ok(usage.usedBytes > 0.95 * usage.limitBytes, `used ${usage.usedBytes} of ${usage.limitBytes}`);
      assert.deepEqual(t.engine.get(full.id).disk, usage);
      // Inside, df agrees: the sandbox sees its own small disk, not the host's.
      const df = (await sh(t.engine, full.id, 'df -k / | tail -1')).split(/\s+/);
      assert.ok(Number(df[1]) * 1024 <= 64 * MiB, `df inside: ${df.join(' ')}`);

      // The host holds no more than the image's size for it.
      const image = join(dirOf(full.id), 'disk.img');
      assert.ok(statSync(image).blocks * 512 <= 64 * MiB);
      const loop = loopDevices().find((l) => l.backingFile === image)!;
      assert.equal(readFileSync(`/sys/block/${loop.device.slice('/dev/'.length)}/loop/dio`, 'utf8').trim(), '1', 'direct I/O (no second page cache)');
      assert.ok(await hostBytes(dirOf(full.id)) <= 65 * MiB, `host bytes ${await hostBytes(dirOf(full.id))}`);

      // The neighbour writes as if nothing happened; the full one can still delete and write again.
      assert.equal(await sh(t.engine, neighbour.id, 'dd if=/dev/zero of=/home/user/ok bs=1M count=32 conv=fsync 2>/dev/null && wc -c < /home/user/ok'), String(32 * MiB));
      assert.equal(await sh(t.engine, full.id, 'rm /home/user/fill && echo again > /home/user/x && cat /home/user/x'), 'again');

      await t.engine.destroy(full.id);
      await t.engine.destroy(neighbour.id);
      await assertNoTraces(dirOf(full.id));
      await assertNoTraces(dirOf(neighbour.id));
      assert.equal(existsSync(dirOf(full.id)), false);
    });
  }

  it('gvisor: pause and resume keep files and limit; the checkpoint has a disk of its own, emptied after resume and reused', { timeout: 300_000 }, async () => {
    const s = await t.engine.run({ template: 'busybox', runtime: 'gvisor', limits: { diskMiB: 64, memoryMiB: 256 } });
    // 48 MiB of random bytes in memory: the checkpoint holds them (zero pages would be skipped).
    await sh(t.engine, s.id, 'dd if=/dev/zero of=/home/user/half bs=1M count=30 2>/dev/null; echo kept > /dev/shm/mem; head -c 50331648 /dev/urandom > /dev/shm/noise');
    await t.engine.pause(s.id);
    const ckpt = join(dirOf(s.id), 'checkpoint.img');
    const loop = loopDevices().find((l) => l.backingFile === ckpt);
    assert.ok(loop, 'the checkpoint is on its own image while paused');
    // Its size follows the memory limit (256 MiB + 256 MiB for the sentry's state), not the host's free space.
    assert.equal(statSync(ckpt).size, 512 * MiB);
    assert.ok(await hostBytes(ckpt) > 48 * MiB, `the checkpoint takes ${await hostBytes(ckpt)} bytes on the host`);
    await t.engine.resume(s.id);
    assert.equal(await sh(t.engine, s.id, 'cat /dev/shm/mem; wc -c < /home/user/half'), `kept\n${30 * MiB}`);
    // After the resume returned, off its path: the checkpoint is deleted and its blocks go back
    // to the host (discard, at ext4's next journal commit); the image stays for the next pause.
    const checkpointDir = join(dirOf(s.id), 'checkpoint');
    await waitFor('the checkpoint image emptied, its blocks back to the host', async () => {
      const left = ['images', 'manifest.json'].filter((f) => existsSync(join(checkpointDir, f)));
      const bytes = await hostBytes(ckpt);
      if (left.length > 0 || bytes > 32 * MiB) throw new Error(`still there: ${left.join(', ')}; ${bytes} bytes on the host`);
      return true;
    }, 30_000, 200);
    assertFull(await t.engine.exec(s.id, { cmd: ['/bin/sh', '-c', FILL] }));
    // The next pause writes into the same mounted image and resumes from it.
    await sh(t.engine, s.id, 'echo again > /dev/shm/mem');
    await t.engine.pause(s.id);
    assert.equal(loopDevices().find((l) => l.backingFile === ckpt)?.device, loop.device, 'the same image, still mounted');
    await t.engine.resume(s.id);
    assert.equal(await sh(t.engine, s.id, 'cat /dev/shm/mem'), 'again');
    // Filesystem-only pause and resume: a cold boot over the same disk.
    await t.engine.pause(s.id, { memory: false });
    await t.engine.resume(s.id);
    assert.equal(await sh(t.engine, s.id, 'wc -c < /home/user/half'), String(30 * MiB));
    await t.engine.destroy(s.id);
    await assertNoTraces(dirOf(s.id));
  });

  it('gvisor: a fork gets a disk of its own, of the same size, with the files', { timeout: 300_000 }, async () => {
    const src = await t.engine.run({ template: 'busybox', runtime: 'gvisor', limits: { diskMiB: 64 } });
    assertFull(await t.engine.exec(src.id, { cmd: ['/bin/sh', '-c', FILL] }));
    const srcUsed = (await t.engine.inspect(src.id)).disk!.usedBytes;
    const fork = await t.engine.fork(src.id);
    assert.equal(fork.limits.diskMiB, 64);
    assert.equal(await sh(t.engine, fork.id, 'wc -c < /home/user/fill'), await sh(t.engine, src.id, 'wc -c < /home/user/fill'));
    assertFull(await t.engine.exec(fork.id, { cmd: ['/bin/sh', '-c', 'dd if=/dev/zero of=/home/user/more bs=1M count=100 conv=fsync'] }));
    // Freeing space in the fork frees none in the source: two disks.
    await sh(t.engine, fork.id, 'rm /home/user/fill /home/user/more');
    assert.ok((await t.engine.inspect(fork.id)).disk!.usedBytes < 8 * MiB);
    assert.equal((await t.engine.inspect(src.id)).disk!.usedBytes, srcUsed);
    await t.engine.destroy(fork.id);
    await t.engine.destroy(src.id);
    await assertNoTraces(dirOf(fork.id));
    await assertNoTraces(dirOf(src.id));
  });

  it('refuses a disk outside the allowed sizes with a clear error, leaving nothing behind', async () => {
    const before = t.engine.list().length;
    for (const diskMiB of [1, 102_401, 64.5]) {
      await assert.rejects(t.engine.run({ template: 'busybox', limits: { diskMiB } }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'invalid_argument');
        assert.match(e.message, /diskMiB must be an integer from 32 to 102400/);
        return true;
      });
    }
    assert.equal(t.engine.list().length, before);
    await assertNoTraces(join(t.home, 'sandboxes'));
  });
});

const NET = networkIndex('server-sec-disk');
const bootServer = (home: string) => bootServerProcess(home, NET);

describe('disk quota through the API and across a server crash and a host reboot', () => {
  it('reports usage, re-attaches disks after SIGKILL and reboot, and leaks no loop device', { timeout: 600_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'agentbox-sec-disk-srv-'));
    const sandboxes = join(home, 'engine', 'sandboxes');
    let srv: Awaited<ReturnType<typeof bootServer>> | undefined;
    try {
      srv = await bootServer(home);
      const api = (s: { url: string; key: string }) => async (path: string, init: { method?: string; json?: unknown } = {}) => {
        const r = await fetchAny(`${s.url}${path}`, {
          method: init.method ?? 'GET',
          headers: { Authorization: `Bearer ${s.key}`, 'Content-Type': 'application/json' },
          ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
        });
        return { status: r.status, body: r.status === 204 ? undefined : await r.json() };
      };
      let call = api(srv);
      const create = (json: Record<string, unknown>) => call('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', runtime: 'gvisor', timeoutSeconds: 3600, ...json } });
      const exec = (id: string, cmd: string) => call(`/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd } });

      const tooBig = await create({ diskMiB: 200_000 });
      assert.equal(tooBig.status, 400, JSON.stringify(tooBig.body));
      assert.equal(tooBig.body.code, 'invalid_argument');
      assert.match(tooBig.body.message, /diskMiB/);

      const running = (await create({ diskMiB: 64 })).body;
      assert.equal(running.diskMiB, 64, JSON.stringify(running));
      assert.ok(running.disk.usedBytes < 1 * MiB && running.disk.limitBytes <= 64 * MiB, JSON.stringify(running.disk));
      assert.equal((await exec(running.id, 'echo before-crash > /home/user/note')).body.exitCode, 0);
      const filled = (await exec(running.id, FILL)).body;
      assert.notEqual(filled.exitCode, 0);
      assert.match(filled.stderr, /No space left on device/);
      const view = (await call(`/v1/sandboxes/${running.id}`)).body;
      assert.ok(view.disk.usedBytes > 0.95 * view.disk.limitBytes, JSON.stringify(view.disk));
      // The E2B façade's metrics carry the same figures.
      const metrics = await (await fetchAny(`${srv.url}/e2b/sandboxes/${running.id}/metrics`, { headers: { 'X-API-Key': srv.key } })).json();
      assert.equal(metrics[0].diskTotal, view.disk.limitBytes);
      assert.ok(metrics[0].diskUsed > 0.95 * view.disk.limitBytes);

      const paused = (await create({ diskMiB: 64 })).body;
      assert.equal((await exec(paused.id, 'echo on-disk > /home/user/note; echo in-memory > /dev/shm/m')).body.exitCode, 0);
      assert.equal((await call(`/v1/sandboxes/${paused.id}/pause`, { method: 'POST' })).status, 200);

      // A create the crash cut short after its disk was attached, and a loop device whose
      // sandbox directory is already gone: restart must release both.
      const half = join(sandboxes, 'halfmade000000000000');
      mkdirSync(half, { recursive: true });
      const model = JSON.parse(readFileSync(join(sandboxes, running.id, 'record.json'), 'utf8'));
      writeFileSync(join(half, 'record.json'), JSON.stringify({ ...model, id: 'halfmade000000000000', state: 'creating', slot: 9 }));
      await attachDisk({ file: join(half, 'disk.img'), mount: join(half, 'disk'), sizeMiB: 32 }, { create: true });
      const ghost = join(sandboxes, 'ghost000000000000000');
      mkdirSync(ghost, { recursive: true });
      await runCommand('truncate', ['-s', '32M', join(ghost, 'disk.img')]);
      await runCommand('losetup', ['-f', join(ghost, 'disk.img')]);
      rmSync(ghost, { recursive: true });
      assert.ok(loopDevices().some((l) => l.backingFile === join(ghost, 'disk.img') && l.deleted));

      await killServerProcess(srv);
      // The host reboots: the paused sandbox's root filesystem, disk and checkpoint are unmounted.
      const p = join(sandboxes, paused.id);
      for (const m of ['rootfs', 'disk', 'checkpoint']) await runCommand('umount', [join(p, m)]);
      await assertNoTraces(p);

      srv = await bootServer(home);
      call = api(srv);
      await assertNoTraces(half);
      await assertNoTraces(ghost);
      assert.equal(existsSync(half), false);

      assert.equal((await exec(running.id, 'cat /home/user/note')).body.stdout, 'before-crash\n');
      const again = (await exec(running.id, 'dd if=/dev/zero of=/home/user/more bs=1M count=10 conv=fsync')).body;
      assert.match(again.stderr, /No space left on device/, 'the limit holds after the restart');
      assert.equal((await call(`/v1/sandboxes/${paused.id}/resume`, { method: 'POST' })).status, 200);
      assert.equal((await exec(paused.id, 'cat /home/user/note /dev/shm/m')).body.stdout, 'on-disk\nin-memory\n');
      assertFull((await exec(paused.id, FILL)).body);

      for (const id of [running.id, paused.id]) assert.equal((await call(`/v1/sandboxes/${id}`, { method: 'DELETE' })).status, 204);
      await assertNoTraces(sandboxes);
    } finally {
      srv?.child.kill('SIGKILL');
      const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: 'runc', network: testNetwork(NET) }).catch(() => undefined);
      if (created) {
        for (const s of created.engine.list()) await created.engine.destroy(s.id).catch(() => undefined);
        await created.engine.close();
        for (const d of created.drivers.values()) await d.releaseStateDir();
      }
      await runCommand('nft', ['delete', 'table', 'inet', testNetwork(NET).table]).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
