// README "No data loss": the server can be SIGKILLed at any moment, and on restart it re-adopts
// running sandboxes, keeps paused ones resumable and removes half-created ones; the engine
// finishes or undoes every interrupted pause, resume, create and kill (src/engine/engine.ts
// recover/adopt). On gVisor, with real checkpoints: an engine process brings sandboxes to the
// on-disk state each interrupted operation starts from (interrupted-engine.ts) and is SIGKILLed;
// the records are then set to the state the operation had written when it was killed
// (`pausing`, `resuming`, `destroying`, `creating`), with and without a checkpoint manifest, and
// a new engine on the same home must settle each one.
// test-file-timeout: 20 min
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { netnsExists } from '../../src/engine/network/netns.ts';
import { sh, startTestEngine, type TestEngine } from '../engine/fixture.ts';
import { exited, spawnAndReadFirstLine } from '../support/child-process.ts';
import { waitFor } from '../support/wait.ts';

const child = new URL('./interrupted-engine.ts', import.meta.url).pathname;
type Ids = Record<'pausedNotRecorded' | 'pauseNotStarted' | 'pauseLostSandbox' | 'resumedNotRecorded' | 'resumeNotStarted'
  | 'resumeIncomplete' | 'destroyNotDone' | 'createNotRecorded', string>;

/** Runs interrupted-engine.ts until it reports its sandboxes, then SIGKILLs it. */
async function prepareAndKill(home: string): Promise<Ids> {
  const { child: proc, line } = await spawnAndReadFirstLine('the engine process', process.execPath, ['--import', 'tsx', child, home], { timeoutMs: 600_000 });
  proc.kill('SIGKILL');
  await exited(proc);
  return JSON.parse(line) as Ids;
}

function setRecordState(home: string, id: string, state: string): void {
  const file = join(home, 'sandboxes', id, 'record.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), state }));
}

const count = async (t: TestEngine, id: string) => Number(await sh(t.engine, id, 'cat /tmp/count'));
/** The sandbox's counter loop, started before the crash, still advances. */
async function keepsCounting(t: TestEngine, id: string): Promise<void> {
  const from = await count(t, id);
  await waitFor(`sandbox ${id}'s counter to pass ${from}`, async () => (await count(t, id)) > from, 20_000, 100);
}

test('gVisor: a SIGKILLed engine settles every interrupted pause, resume, create and kill', { timeout: 900_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-claims-crash-'));
  let engine: TestEngine | undefined;
  try {
    const ids = await prepareAndKill(home);
    setRecordState(home, ids.pausedNotRecorded, 'pausing');
    setRecordState(home, ids.pauseNotStarted, 'pausing');
    setRecordState(home, ids.pauseLostSandbox, 'pausing');
    setRecordState(home, ids.resumedNotRecorded, 'resuming');
    setRecordState(home, ids.resumeNotStarted, 'resuming');
    setRecordState(home, ids.resumeIncomplete, 'resuming');
    setRecordState(home, ids.destroyNotDone, 'destroying');
    setRecordState(home, ids.createNotRecorded, 'creating');

    engine = await startTestEngine('claims-1', { home, defaultRuntime: 'gvisor' });
    const e = engine.engine;
    const state = (id: string) => e.list().find((s) => s.id === id)?.state;

    // pause, checkpoint complete: paused, and resume brings the same processes back.
    assert.equal(state(ids.pausedNotRecorded), 'paused');
    assert.equal(e.get(ids.pausedNotRecorded).runtime, 'gvisor');
    await e.resume(ids.pausedNotRecorded);
    await keepsCounting(engine, ids.pausedNotRecorded);
    // pause, never checkpointed: still running, re-adopted.
    assert.equal(state(ids.pauseNotStarted), 'running');
    await keepsCounting(engine, ids.pauseNotStarted);
    // pause, sandbox stopped and no manifest: failed, saying why (never reported paused).
    assert.equal(state(ids.pauseLostSandbox), 'failed');
    assert.match(e.get(ids.pauseLostSandbox).error ?? '', /during pause/);

    // resume, restore finished: running, and the checkpoint images are gone from disk.
    assert.equal(state(ids.resumedNotRecorded), 'running');
    await keepsCounting(engine, ids.resumedNotRecorded);
    assert.equal(existsSync(join(home, 'sandboxes', ids.resumedNotRecorded, 'checkpoint')), false);
    // resume, restore never started: paused, and resumable.
    assert.equal(state(ids.resumeNotStarted), 'paused');
    await e.resume(ids.resumeNotStarted);
    await keepsCounting(engine, ids.resumeNotStarted);
    // resume from a checkpoint without its manifest: failed, never restored from it.
    assert.equal(state(ids.resumeIncomplete), 'failed');
    assert.match(e.get(ids.resumeIncomplete).error ?? '', /checkpoint is incomplete/);

    // kill and create interrupted: gone, with their container, namespace and files.
    const gvisor = engine.drivers.get('gvisor')!;
    for (const id of [ids.destroyNotDone, ids.createNotRecorded]) {
      assert.equal(state(id), undefined, `${id} is no longer listed`);
      assert.equal(existsSync(join(home, 'sandboxes', id)), false, `${id}'s directory was removed`);
      assert.equal(netnsExists(id), false, `${id}'s network namespace was removed`);
      assert.equal(await gvisor.status(id), undefined, `${id}'s container was removed`);
    }
  } finally {
    // Whatever happened, remove every sandbox the two engines made, then the home.
    engine ??= await startTestEngine('claims-1', { home, defaultRuntime: 'gvisor' }).catch(() => undefined);
    await engine?.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
});
