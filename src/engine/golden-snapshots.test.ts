import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { goldenKey, GoldenSnapshots, type GoldenInputs } from './golden-snapshots.ts';

const inputs: GoldenInputs = {
  templateBuildId: 'b1', layers: ['/layers/a'], runtime: 'gvisor', runtimeSha256: 'r1',
  imageConfig: { env: {}, workdir: '/home/user', user: 'user' }, limits: { cpu: 1, memoryMiB: 512, pids: 512 }, guest: '/cache/guest/abc',
};
const key = (n: number) => n.toString(16).padStart(32, '0');
/** A build that writes a complete snapshot directory taken by runtime binary `sha`. */
const complete = (sha = 'r1') => async (dir: string) => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ runtime: { name: 'gvisor', sha256: sha } }));
};
/** A complete build held open until `release`; `written` settles once its files are there. */
function heldBuild() {
  let release!: () => void;
  let markWritten!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const written = new Promise<void>((r) => { markWritten = r; });
  const build = async (dir: string) => { await complete()(dir); markWritten(); await gate; };
  return { build, written, release };
}

let root: string;
const logs: string[] = [];
const store = (max = 2) => new GoldenSnapshots(root, { max, log: (msg) => logs.push(msg) });
beforeEach(async () => { root = await mkdtemp(join(tmpdir(), 'golden-')); logs.length = 0; });
afterEach(() => rm(root, { recursive: true, force: true }));

describe('goldenKey', () => {
  it('changes with everything a sandbox\'s memory depends on, and only with that', () => {
    const k = goldenKey(inputs);
    assert.match(k, /^[0-9a-f]{32}$/);
    assert.equal(goldenKey({ ...inputs }), k);
    for (const other of [
      { templateBuildId: 'b2' }, { runtimeSha256: 'r2' }, { guest: '/cache/guest/def' }, { layers: ['/layers/b'] },
      { limits: { ...inputs.limits, memoryMiB: 1024 } }, { limits: { ...inputs.limits, cpu: 2 } }, { limits: { ...inputs.limits, pids: 64 } },
      { imageConfig: { ...inputs.imageConfig, env: { A: '1' } } },
    ]) assert.notEqual(goldenKey({ ...inputs, ...other }), k, JSON.stringify(other));
    // The disk size is not part of a snapshot's memory: a copy gets a disk of its own size.
    assert.equal(goldenKey({ ...inputs, limits: { ...inputs.limits, diskMiB: 99 } as GoldenInputs['limits'] }), k);
  });
});

describe('GoldenSnapshots', () => {
  it('publishes a build under its key only once complete, and builds one at a time', async () => {
    const g = store();
    await g.init(new Set(['r1']));
    const held = heldBuild();
    g.requestBuild(key(1), held.build);
    g.requestBuild(key(2), complete());
    assert.equal(g.take(key(1)), undefined, 'not before the build is done');
    held.release();
    await g.idle();
    assert.equal(g.take(key(1)), join(root, key(1)));
    assert.equal(g.take(key(2)), undefined, 'a request made while another build ran is dropped, not queued');
    assert.deepEqual(await readdir(root), [key(1)]);
  });

  it('a snapshot is takeable the moment its directory shows under its key', async () => {
    const g = store();
    await g.init(new Set(['r1']));
    const held = heldBuild();
    g.requestBuild(key(1), held.build);
    // The build's own writes are I/O: done before the loop below, which lets no I/O callback run.
    await held.written;
    held.release();
    // Microtasks only: no I/O callback runs in this loop, so a rename done on another thread
    // and not yet reported would show on disk while the store still says there is none.
    const until = Date.now() + 5_000;
    while (!existsSync(join(root, key(1))) && Date.now() < until) await Promise.resolve();
    assert.ok(existsSync(join(root, key(1))));
    assert.equal(g.has(key(1)), true);
    await g.idle();
  });

  it('removes a failed build and logs why creates boot instead', async () => {
    const g = store();
    await g.init(new Set(['r1']));
    g.requestBuild(key(1), async (dir) => { await complete()(dir); throw new Error('warm-up failed'); });
    await g.idle();
    assert.equal(g.take(key(1)), undefined);
    assert.deepEqual(await readdir(root), []);
    assert.match(logs.join('\n'), /boot from scratch/);
  });

  it('stops building a kind that failed twice (a build or a restore), so its creates only boot', async () => {
    const g = store();
    await g.init(new Set(['r1']));
    g.requestBuild(key(1), async () => { throw new Error('checkpoint failed'); });
    await g.idle();
    g.requestBuild(key(1), complete());
    await g.idle();
    assert.ok(g.take(key(1)), 'one failure: built again');
    await g.discard(key(1)); // the second failure: it did not restore
    let called = false;
    g.requestBuild(key(1), async (dir) => { called = true; await complete()(dir); });
    await g.idle();
    assert.equal(called, false);
    assert.equal(g.take(key(1)), undefined);
    assert.match(logs.join('\n'), /failed twice/);
    g.requestBuild(key(2), complete());
    await g.idle();
    assert.ok(g.take(key(2)), 'other kinds are not affected');
  });

  it('keeps at most `max`, dropping the least recently used', async () => {
    const g = store(2);
    await g.init(new Set(['r1']));
    for (const n of [1, 2]) { g.requestBuild(key(n), complete()); await g.idle(); }
    g.take(key(1)); // 2 is now the least recently used
    g.requestBuild(key(3), complete());
    await g.idle();
    assert.ok(g.take(key(1)) && g.take(key(3)));
    assert.equal(g.take(key(2)), undefined);
    assert.deepEqual((await readdir(root)).sort(), [key(1), key(3)]);
  });

  it('adopts complete snapshots at start-up and deletes unfinished and foreign ones', async () => {
    await complete('r1')(join(root, key(1)));
    await complete('old-runsc')(join(root, key(2)));
    await mkdir(join(root, key(3))); // no manifest: never completed
    await complete('r1')(join(root, `${key(4)}.tmp`));
    const g = store(8);
    await g.init(new Set(['r1']));
    assert.equal(g.take(key(1)), join(root, key(1)));
    assert.deepEqual(await readdir(root), [key(1)]);
  });

  it('close stops the build in progress at its wait, counts no failure and starts no other build', async () => {
    const g = store();
    await g.init(new Set(['r1']));
    let stopped: unknown;
    const done = g.requestBuild(key(1), async (dir, closing) => {
      await mkdir(dir, { recursive: true });
      try {
        await sleep(60_000, undefined, { signal: closing });
      } catch (err) {
        stopped = err;
        throw err;
      }
      await complete()(dir);
    });
    assert.equal(g.closed, false);
    const closed = g.close();
    assert.equal(g.closed, true, 'a build that ends now did not fail');
    assert.ok(await done, 'the build ends with what stopped it');
    await closed;
    assert.equal((stopped as Error | undefined)?.name, 'AbortError');
    assert.deepEqual(await readdir(root), [], 'its unfinished directory is gone');
    assert.equal(logs.length, 0, 'a close is no failure to report');
    assert.equal(g.requestBuild(key(2), complete()), undefined, 'no build starts once closing');
  });

  it('discards a snapshot that failed to restore', async () => {
    const g = store();
    await g.init(new Set(['r1']));
    g.requestBuild(key(1), complete());
    await g.idle();
    await g.discard(key(1));
    assert.equal(g.take(key(1)), undefined);
    assert.equal(existsSync(join(root, key(1))), false);
  });
});
