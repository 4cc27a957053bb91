// Work queue semantics the reconcilers rely on (no Kubernetes needed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, type QueueOptions } from './queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startedQueue = (o: QueueOptions) => {
  const q = new WorkQueue(o);
  q.start();
  return q;
};

describe('work queue', () => {
  it('holds keys until started (the controller waits for its caches)', async () => {
    const seen: string[] = [];
    const q = new WorkQueue({ workers: 2, handler: async (k) => { seen.push(k); } });
    q.add('a');
    q.add('b');
    await sleep(30);
    assert.deepEqual(seen, []);
    q.start();
    await q.idle();
    assert.deepEqual(seen.sort(), ['a', 'b']);
    q.stop();
  });

  it('never runs one key twice at once, and coalesces adds made while it runs', { timeout: 10_000 }, async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let started!: () => void;
    const firstRunStarted = new Promise<void>((r) => { started = r; });
    const q = startedQueue({
      workers: 4,
      handler: async () => { running++; runs++; maxRunning = Math.max(maxRunning, running); started(); await gate; running--; },
    });
    q.add('a');
    await firstRunStarted;
    for (let i = 0; i < 10; i++) q.add('a');
    release();
    await q.idle();
    assert.equal(maxRunning, 1);
    assert.equal(runs, 2, 'ten adds during a run make exactly one more run');
    q.stop();
  });

  it('runs different keys in parallel up to the worker count', async () => {
    let running = 0;
    let maxRunning = 0;
    const q = startedQueue({ workers: 3, handler: async () => { running++; maxRunning = Math.max(maxRunning, running); await sleep(20); running--; } });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await q.idle();
    assert.equal(maxRunning, 3);
    q.stop();
  });

  it('keeps the earliest of several delayed adds, retries failures with backoff, and is bounded', { timeout: 10_000 }, async (t) => {
    // The queue's timers are unref'd (they never hold a process open): hold the loop while waiting.
    const hold = setInterval(() => {}, 1000);
    t.after(() => clearInterval(hold));
    const t0 = Date.now();
    let fired!: (ms: number) => void;
    const firedAfter = new Promise<number>((r) => { fired = r; });
    const q = startedQueue({ workers: 1, maxPending: 2, handler: async (k) => { if (k === 'x') fired(Date.now() - t0); } });
    q.addAfter('x', 60_000);
    q.addAfter('x', 30);
    // Had the first delay been kept, the key could not run before a minute had passed.
    assert.ok(await firedAfter < 60_000, 'the shorter delay replaced the longer one');
    let attempts = 0;
    let succeeded!: () => void;
    const thirdAttempt = new Promise<void>((r) => { succeeded = r; });
    const failing = startedQueue({ workers: 1, handler: async () => { attempts++; if (attempts < 3) throw new Error('boom'); succeeded(); } });
    failing.add('k');
    await thirdAttempt;
    await failing.idle();
    assert.equal(attempts, 3, 'two failures, then the retry that succeeds, and no more');
    const blocked = startedQueue({ workers: 1, maxPending: 2, handler: async () => { await sleep(50); } });
    for (const k of ['1', '2', '3', '4', '5']) blocked.add(k);
    assert.equal(blocked.dropped, 2, 'one running, two pending, the rest dropped');
    q.stop(); failing.stop(); blocked.stop();
  });
});
