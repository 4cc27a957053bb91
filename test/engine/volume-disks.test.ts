/**
 * Volume disks (src/engine/volumes/disks.ts) on real loop devices: a new volume is empty, owned
 * by the templates' `user`, and full at its size; after a host reboot (nothing mounted) start-up
 * mounts every volume again with its files, and drops what a crash inside a create left; remove
 * leaves no mount and no file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { detachDisk, isMountPoint, loopDevices } from '../../src/engine/images/disk.ts';
import { VolumeDisks } from '../../src/engine/volumes/disks.ts';

const home = mkdtempSync(join(tmpdir(), 'agentbox-volumes-'));
const volumes = new VolumeDisks(join(home, 'volumes'));
const ID = '0a1b2c3d-0000-4000-8000-00000000abcd';
const HALF_MADE = '0a1b2c3d-0000-4000-8000-00000000dead';
after(async () => {
  await volumes.remove(ID).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

test('a volume: made empty and writable by user, full at its size, mounted again after a reboot, removed whole', async () => {
  await volumes.create(ID, 64);
  const dir = volumes.dir(ID);
  assert.ok(isMountPoint(dir));
  assert.deepEqual(readdirSync(dir), [], 'empty (no lost+found)');
  assert.equal(statSync(dir).uid, 1000);
  writeFileSync(join(dir, 'kept.txt'), 'kept');
  assert.throws(() => writeFileSync(join(dir, 'big'), Buffer.alloc(80 * 1024 * 1024)), { code: 'ENOSPC' });
  rmSync(join(dir, 'big'), { force: true });

  // A reboot: nothing is mounted; a crash inside another create left a directory without image.
  await detachDisk({ file: join(home, 'volumes', ID, 'volume.img'), mount: dir });
  mkdirSync(join(home, 'volumes', HALF_MADE));
  assert.equal(isMountPoint(dir), false);
  assert.throws(() => volumes.dir(ID), { code: 'unavailable' });
  await volumes.attachAll(() => undefined);
  assert.equal(readFileSync(join(volumes.dir(ID), 'kept.txt'), 'utf8'), 'kept');
  assert.equal(existsSync(join(home, 'volumes', HALF_MADE)), false);

  await volumes.remove(ID);
  assert.equal(existsSync(join(home, 'volumes', ID)), false);
  assert.equal(loopDevices().some((l) => l.backingFile.startsWith(home)), false, 'no loop device left');
  assert.throws(() => volumes.dir(ID), { code: 'not_found' });
  assert.throws(() => volumes.dir('../../etc'), { code: 'not_found' }, 'only UUIDs name a volume');
});
