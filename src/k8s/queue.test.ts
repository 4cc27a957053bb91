// Work queue semantics the reconcilers rely on (no Kubernetes needed). No wall clock: handlers
// wait on gates the test opens, and delays run on node:test's mock clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, type QueueOptions } from './queue.ts';

/** One full turn of the event loop: every promise callback and handler continuation has run. */
const settle = () => new Promise<void>((r) => setImmediate(r));
const startedQueue = (o: QueueOptions) => {
  const q = new WorkQueue(o);
  q.start();
  return q;
};
/** A promise the test resolves by hand, for handlers that must stay running until told. */
const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => { open = r; });
  return { opened, open };
};

describe('work queue', () => {
  it('holds keys until started (the controller waits for its caches)', async () => {
    const seen: string[] = [];
    const q = new WorkQueue({ workers: 2, handler: async (k) => { seen.push(k); } });
    q.add('a');
    q.add('b');
    await settle();
    assert.deepEqual(seen, []);
    assert.equal(q.depth, 2);
    q.start();
    await q.idle();
    assert.deepEqual(seen.sort(), ['a', 'b']);
    q.stop();
  });

  it('never runs one key twice at once, and coalesces adds made while it runs', { timeout: 10_000 }, async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const release = gate();
    const firstRun = gate();
    const q = startedQueue({
      workers: 4,
      handler: async () => { running++; runs++; maxRunning = Math.max(maxRunning, running); firstRun.open(); await release.opened; running--; },
    });
    q.add('a');
    await firstRun.opened;
    for (let i = 0; i < 10; i++) q.add('a');
    release.open();
    await q.idle();
    assert.equal(maxRunning, 1);
    assert.equal(runs, 2, 'ten adds during a run make exactly one more run');
    q.stop();
  });

  it('runs different keys in parallel up to the worker count', async () => {
    let running = 0;
    let maxRunning = 0;
    const release = gate();
    const q = startedQueue({ workers: 3, handler: async () => { running++; maxRunning = Math.max(maxRunning, running); await release.opened; running--; } });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await settle();
    assert.equal(running, 3, 'three workers busy while their keys run');
    assert.equal(q.depth, 2, 'the other two keys wait');
    release.open();
    await q.idle();
    assert.equal(maxRunning, 3);
    q.stop();
  });

  it('keeps the earliest of several delayed adds', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const seen: string[] = [];
    const q = startedQueue({ workers: 1, handler: async (k) => { seen.push(k); } });
    q.addAfter('x', 60_000);
    q.addAfter('x', 30);
    t.mock.timers.tick(29);
    await settle();
    assert.deepEqual(seen, []);
    t.mock.timers.tick(1);
    await settle();
    assert.deepEqual(seen, ['x'], 'the shorter delay replaced the longer one');
    q.stop();
  });

  it('retries a failing key with exponential backoff until it succeeds, then no more', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    let attempts = 0;
    const q = startedQueue({ workers: 1, handler: async () => { attempts++; if (attempts < 3) throw new Error('boom'); } });
    q.add('k');
    await settle();
    assert.equal(attempts, 1);
    t.mock.timers.tick(9);
    await settle();
    assert.equal(attempts, 1, 'the first retry waits 10 ms');
    t.mock.timers.tick(1);
    await settle();
    assert.equal(attempts, 2);
    t.mock.timers.tick(19);
    await settle();
    assert.equal(attempts, 2, 'the second retry waits 20 ms');
    t.mock.timers.tick(1);
    await settle();
    await q.idle();
    assert.equal(attempts, 3);
    t.mock.timers.tick(60_000);
    await settle();
    assert.equal(attempts, 3, 'a success is not retried');
    q.stop();
  });

  it('is bounded: beyond maxPending adds are dropped and counted', async () => {
    const release = gate();
    const q = startedQueue({ workers: 1, maxPending: 2, handler: async () => { await release.opened; } });
    for (const k of ['1', '2', '3', '4', '5']) q.add(k);
    assert.equal(q.dropped, 2, 'one running, two pending, the rest dropped');
    release.open();
    await q.idle();
    q.stop();
  });
});
