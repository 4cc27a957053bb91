// A gVisor engine process for test/claims/crash-recovery.test.ts, which SIGKILLs it:
// `node --import tsx interrupted-engine.ts <home>` brings sandboxes to the on-disk states each
// interrupted operation starts from, prints one JSON line {name: id}, and waits to be killed.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestEngine, sh } from '../engine/fixture.ts';

const home = process.argv[2]!;
const t = await startTestEngine('claims-1', { home, defaultRuntime: 'gvisor' });
await t.templates.ensure('busybox');
const counting = '(i=0; while true; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.05; done) >/dev/null 2>&1 &';

async function running(): Promise<string> {
  const s = await t.engine.run({ template: 'busybox' });
  await sh(t.engine, s.id, counting);
  return s.id;
}
async function paused(): Promise<string> {
  const id = await running();
  await t.engine.pause(id);
  return id;
}

const ids = {
  // pause: the checkpoint and its manifest were written, the record not yet updated.
  pausedNotRecorded: await paused(),
  // pause: killed before the checkpoint stopped the sandbox.
  pauseNotStarted: await running(),
  // pause: the checkpoint stopped the sandbox, but its manifest was never written.
  pauseLostSandbox: await running(),
  // resume: the restore finished, the record not yet updated.
  resumedNotRecorded: await paused(),
  // resume: killed before the restore started.
  resumeNotStarted: await paused(),
  // resume: the checkpoint on disk is incomplete (no manifest).
  resumeIncomplete: await paused(),
  // kill: killed between the 'destroying' record and the teardown.
  destroyNotDone: await running(),
  // create: the container runs, the record never left 'creating'.
  createNotRecorded: await running(),
};
await t.engine.resume(ids.resumedNotRecorded);
await t.drivers.get('gvisor')!.delete(ids.pauseLostSandbox);
await rm(join(home, 'sandboxes', ids.resumeIncomplete, 'checkpoint', 'manifest.json'));
console.log(JSON.stringify(ids));
setInterval(() => {}, 60_000);
