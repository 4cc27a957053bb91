/**
 * Sandbox directories with their disk formatted and mounted ahead of time
 * (src/engine/images/prepared-disks.ts): each goes to one sandbox only, mounted, fresh and of the
 * size asked for; none is left mounted by a start, a stop or a crashed run. And the loop device's
 * switch to direct I/O, which a create of an unprepared disk does not wait for (src/engine/images/disk.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { attachDisk, detachDisk, isMountPoint, loopDevices, switchToDirectIoInBackground } from '../../src/engine/images/disk.ts';
import { PreparedDisks } from '../../src/engine/images/prepared-disks.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
const SIZE_MIB = 64;
const home = mkdtempSync(join(tmpdir(), 'agentbox-prepared-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** The engine's layout (src/engine/bundle.ts sandboxPaths): the image and its mount point in a sandbox's directory. */
const diskIn = (dir: string) => ({ file: join(dir, 'disk.img'), mount: join(dir, 'disk') });
/** Entries whose disk is mounted, i.e. ready to be taken. */
const readyEntries = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => isMountPoint(diskIn(join(dir, n)).mount)) : []);
const loopsUnder = (dir: string) => loopDevices().filter((l) => l.backingFile.startsWith(dir + sep));
const directIo = (device: string) => readFileSync(`/sys/block/${device.slice('/dev/'.length)}/loop/dio`, 'utf8').trim() === '1';
const uuidOf = async (file: string) => (await runCommand('blkid', ['-o', 'value', '-s', 'UUID', file])).stdout.trim();

describe('prepared sandbox disks', () => {
  it('are made at start (a crashed run\'s unmounted and removed), handed out once each, mounted, fresh, at the size asked for, and refilled', async () => {
    const dir = join(home, 'prepared');
    // A run that crashed: its entry is still mounted, and a half-made one lies beside it.
    const crashed = new PreparedDisks({ dir, sizeMiB: SIZE_MIB, count: 1, diskIn });
    await crashed.start();
    await waitFor('the crashed run\'s entry', () => crashed.readyCount === 1, 60_000);
    assert.equal(readyEntries(dir).length, 1);
    const leftover = diskIn(join(dir, readyEntries(dir)[0]!));
    const leftoverUuid = await uuidOf(leftover.file);
    mkdirSync(join(dir, '7'));
    writeFileSync(join(dir, '7', 'disk.img'), 'left by a crash');

    const sandboxes = join(home, 'sandboxes');
    const [a, b] = [join(sandboxes, 'a'), join(sandboxes, 'b')];
    const disks = new PreparedDisks({ dir, sizeMiB: SIZE_MIB, count: 2, diskIn });
    await disks.start();
    try {
      assert.equal(existsSync(join(dir, '7')), false, 'what an earlier run left is removed, never handed out');
      await waitFor('two entries ready', () => disks.readyCount === 2, 60_000);
      assert.equal(readyEntries(dir).length, 2, 'each ready entry has its disk mounted');
      const pooled = loopsUnder(dir);
      assert.equal(pooled.length, 2, 'the crashed run\'s loop device went with its entry');
      for (const l of pooled) assert.notEqual(await uuidOf(l.backingFile), leftoverUuid, 'the crashed run\'s disk is never handed out');

      mkdirSync(sandboxes);
      assert.equal(disks.take(join(sandboxes, 'other-size'), SIZE_MIB * 2), false, 'another size is made on the spot');
      assert.equal(existsSync(join(sandboxes, 'other-size')), false);
      mkdirSync(join(sandboxes, 'taken'));
      assert.equal(disks.take(join(sandboxes, 'taken'), SIZE_MIB), false, 'an existing directory is never replaced');

      assert.equal(disks.take(a, SIZE_MIB), true);
      assert.equal(disks.take(b, SIZE_MIB), true);
      assert.equal(disks.take(join(sandboxes, 'c'), SIZE_MIB), false, 'an empty pool hands out nothing');
      assert.deepEqual(readyEntries(dir), [], 'a taken entry leaves the pool');
      for (const d of [a, b]) {
        const disk = diskIn(d);
        assert.ok(isMountPoint(disk.mount), `${d}: its disk came mounted`);
        const [loop] = loopDevices().filter((l) => l.backingFile === disk.file);
        assert.ok(loop, `${d}: its loop device reads the image at its new path`);
        assert.ok(directIo(loop.device), `${d}: already on direct I/O`);
        const fs = statfsSync(disk.mount);
        assert.ok(fs.blocks * fs.bsize > (SIZE_MIB - 8) * MiB && fs.blocks * fs.bsize <= SIZE_MIB * MiB, `${d}: a filesystem of the size asked for`);
        assert.deepEqual(readdirSync(disk.mount), ['lost+found'], `${d}: nothing on it`);
      }
      const [ua, ub] = [await uuidOf(diskIn(a).file), await uuidOf(diskIn(b).file)];
      assert.ok(ua && ub && ua !== ub, `each disk is its own filesystem (${ua}, ${ub})`);

      await waitFor('the pool refilled', () => disks.readyCount === 2, 60_000);
      assert.equal(readyEntries(dir).length, 2);

      // A take that cannot rename (here: no parent directory) hands out nothing and fails
      // nothing: the create makes its own disk, and the entry is unmounted, never handed out.
      assert.equal(disks.take(join(home, 'no-such-parent', 'x'), SIZE_MIB), false);
      assert.equal(disks.readyCount, 1);
      await waitFor('the entry that could not be taken detached', () => loopsUnder(dir).length === 1, 10_000);
    } finally {
      // A taken disk detaches like any sandbox's: its loop device goes with the mount.
      for (const d of [a, b]) await detachDisk(diskIn(d));
      await disks.stop();
    }
    await waitFor('the taken disks\' loop devices released', () => loopsUnder(sandboxes).length === 0, 10_000);
    assert.equal(existsSync(dir), false, 'stop removes every entry still waiting');
    await waitFor('no loop device left for the pool', () => loopsUnder(dir).length === 0, 10_000);
  });

  it('with a count of 0 makes nothing', async () => {
    const dir = join(home, 'none');
    const disks = new PreparedDisks({ dir, sizeMiB: SIZE_MIB, count: 0, diskIn });
    await disks.start();
    assert.equal(disks.take(join(home, 'x'), SIZE_MIB), false);
    await disks.stop();
    assert.equal(existsSync(dir), false);
  });
});

describe('a disk attached with its direct I/O switched later, in the background', () => {
  const loopsOf = (file: string) => loopDevices().filter((l) => l.backingFile === file);

  it('is mounted without direct I/O, gets it once switched; a detach right after the switch leaves no loop device', async () => {
    const disk = { file: join(home, 'bg.img'), mount: join(home, 'bg'), sizeMiB: SIZE_MIB };
    await attachDisk(disk, { create: true, directIoLater: true });
    try {
      writeFileSync(join(disk.mount, 'f'), 'written before the switch');
      const [loop] = loopsOf(disk.file);
      assert.ok(loop, 'the image is on a loop device');
      // A create's own writes (its seed) must not wait for the device's freeze.
      assert.equal(directIo(loop.device), false, 'no switch before the caller asks for it');
      switchToDirectIoInBackground(disk);
      await waitFor('direct I/O on', () => directIo(loop.device), 10_000);
    } finally {
      await detachDisk(disk);
    }
    assert.deepEqual(loopsOf(disk.file), []);

    // Detached before its switch can have run: the detach waits for it, so the switch never
    // lands on a loop device another disk took meanwhile, and nothing is left attached.
    await attachDisk(disk, { create: false, directIoLater: true });
    switchToDirectIoInBackground(disk);
    assert.equal(readFileSync(join(disk.mount, 'f'), 'utf8'), 'written before the switch');
    await detachDisk(disk);
    await waitFor('the loop device released', () => loopsOf(disk.file).length === 0, 10_000);
  });
});
