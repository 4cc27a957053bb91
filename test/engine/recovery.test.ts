/**
 * An engine that stops loses nothing: a new engine on the same home re-adopts
 * running sandboxes, keeps paused ones resumable and created ones startable, and removes
 * half-created ones, their disks detached.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sandboxPaths } from '../../src/engine/bundle.ts';
import { attachDisk, loopDevices } from '../../src/engine/images/disk.ts';
import { waitFor } from '../support/wait.ts';
import { sh, startTestEngine, type TestEngine } from './fixture.ts';

let first: TestEngine | undefined;
let second: TestEngine | undefined;
after(async () => {
  await second?.cleanup();
});

describe('engine restart', () => {
  it('re-adopts running sandboxes, keeps paused ones and cleans up half-created ones', async () => {
    first = await startTestEngine('recovery');
    await first.templates.ensure('busybox');
    const running = await first.engine.run({ template: 'busybox' });
    assert.equal(running.runtime, 'gvisor', 'the default runtime class here is gVisor');
    await sh(first.engine, running.id, '(i=0; while true; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.05; done) >/dev/null 2>&1 &');
    const paused = await first.engine.run({ template: 'busybox' });
    await sh(first.engine, paused.id, 'echo before-restart > /dev/shm/m');
    await first.engine.pause(paused.id);
    const created = await first.engine.create({ template: 'busybox' }); // created, never started
    // A create the old engine never finished: only its first record write happened.
    const halfId = 'halfcreated000000000';
    await mkdir(join(first.home, 'sandboxes', halfId), { recursive: true });
    await writeFile(join(first.home, 'sandboxes', halfId, 'record.json'), JSON.stringify({ ...first.engine.get(running.id), id: halfId, state: 'creating', slot: 9, layers: [], runtime: 'gvisor' }));
    // One that had taken a prepared disk (src/engine/images/prepared-disks.ts), mounted, and
    // crashed before its first record write.
    const takenId = 'takenbeforerecord000';
    const takenPaths = sandboxPaths(join(first.home, 'sandboxes', takenId));
    const taken = { file: takenPaths.diskImage, mount: takenPaths.disk, sizeMiB: 64 };
    await mkdir(join(first.home, 'sandboxes', takenId));
    await attachDisk(taken, { create: true });
    await first.engine.close(); // the server goes away; its sandboxes do not
    // (test/claims/crash-recovery.test.ts does the same after a SIGKILL, for interrupted operations.)
    second = await startTestEngine('recovery', { home: first.home });
    const ids = second.engine.list().map((s) => `${s.id}:${s.state}`).sort();
    assert.deepEqual(ids, [`${running.id}:running`, `${paused.id}:paused`, `${created.id}:creating`].sort());
    assert.equal(existsSync(join(first.home, 'sandboxes', halfId)), false);
    assert.equal(existsSync(join(first.home, 'sandboxes', takenId)), false);
    await waitFor('the disk of the sandbox with no record detached', () => !loopDevices().some((l) => l.backingFile === taken.file), 10_000);
    const count = Number(await sh(second.engine, running.id, 'cat /tmp/count'));
    await waitFor(`the re-adopted sandbox's counter to pass ${count}: it kept running`,
      async () => Number(await sh(second!.engine, running.id, 'cat /tmp/count')) > count, 30_000, 100);
    await second.engine.resume(paused.id);
    assert.equal(await sh(second.engine, paused.id, 'cat /dev/shm/m'), 'before-restart');
    await second.engine.start(created.id);
    assert.equal(await sh(second.engine, created.id, 'hostname'), created.id);
  });
});
