/**
 * Disk images formatted ahead of time (src/engine/images/prepared-disks.ts): each goes to one
 * sandbox only, fresh and of the size asked for; none is left behind by a start or a stop. And
 * the loop device's switch to direct I/O, which a create does not wait for (src/engine/images/disk.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { attachDisk, detachDisk, loopDevices, switchToDirectIoInBackground } from '../../src/engine/images/disk.ts';
import { PreparedDisks } from '../../src/engine/images/prepared-disks.ts';
import { waitFor } from '../support/wait.ts';

const MiB = 1024 * 1024;
const SIZE_MIB = 64;
const home = mkdtempSync(join(tmpdir(), 'agentbox-prepared-'));
after(() => rmSync(home, { recursive: true, force: true }));

const readyImages = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.img')) : []);
const uuidOf = async (file: string) => (await runCommand('blkid', ['-o', 'value', '-s', 'UUID', file])).stdout.trim();

describe('prepared disk images', () => {
  it('are made at start (leftovers removed), handed out once each, fresh, at the size asked for, and refilled', async () => {
    const dir = join(home, 'prepared');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '7.img'), 'left by a crash');
    const disks = new PreparedDisks({ dir, sizeMiB: SIZE_MIB, count: 2 });
    await disks.start();
    try {
      assert.equal(existsSync(join(dir, '7.img')), false, 'what an earlier run left is removed, never handed out');
      await waitFor('two images ready', () => readyImages(dir).length === 2, 60_000);

      const sandbox = join(home, 'sandbox');
      mkdirSync(sandbox);
      assert.equal(disks.take(join(sandbox, 'other-size.img'), SIZE_MIB * 2), false, 'another size is made on the spot');
      assert.equal(existsSync(join(sandbox, 'other-size.img')), false);
      writeFileSync(join(sandbox, 'taken.img'), 'existing');
      assert.equal(disks.take(join(sandbox, 'taken.img'), SIZE_MIB), false, 'an existing file is never replaced');

      const a = join(sandbox, 'a.img');
      const b = join(sandbox, 'b.img');
      assert.equal(disks.take(a, SIZE_MIB), true);
      assert.equal(disks.take(b, SIZE_MIB), true);
      assert.equal(disks.take(join(sandbox, 'c.img'), SIZE_MIB), false, 'an empty pool hands out nothing');
      for (const f of [a, b]) {
        assert.equal(statSync(f).size, SIZE_MIB * MiB);
        await runCommand('e2fsck', ['-n', '-f', f]);
      }
      const [ua, ub] = [await uuidOf(a), await uuidOf(b)];
      assert.ok(ua && ub && ua !== ub, `each image is its own filesystem (${ua}, ${ub})`);
      assert.equal(readyImages(dir).length, 0, 'a taken image leaves the pool');

      await waitFor('the pool refilled', () => readyImages(dir).length === 2, 60_000);
    } finally {
      await disks.stop();
    }
    assert.equal(existsSync(dir), false, 'stop removes every image still waiting');
  });

  it('with a count of 0 makes nothing', async () => {
    const dir = join(home, 'none');
    const disks = new PreparedDisks({ dir, sizeMiB: SIZE_MIB, count: 0 });
    await disks.start();
    assert.equal(disks.take(join(home, 'x.img'), SIZE_MIB), false);
    await disks.stop();
    assert.equal(existsSync(dir), false);
  });
});

describe('a disk attached with its direct I/O switched later, in the background', () => {
  const loopsOf = (file: string) => loopDevices().filter((l) => l.backingFile === file);
  const directIo = (device: string) => readFileSync(`/sys/block/${device.slice('/dev/'.length)}/loop/dio`, 'utf8').trim() === '1';

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
