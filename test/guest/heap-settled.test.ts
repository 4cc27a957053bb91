// test-file-guests: typescript native
// GET /heap-settled (src/guest/heap-settle.ts): a golden snapshot's builder waits on it so that no
// copy starts with V8's memory reducer still pending. These tests run a real guest on this Node.
// The native guest (crates/guest) has no V8 heap, and answers settled at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { HEAP_SETTLED_MAX_WAIT_MS, type HeapSettledStatus } from '../../src/api/envd-protocol.ts';
import { reducerDone } from '../../src/guest/heap-settle.ts';
import { GUEST_BIN, ROOT, startGuest, type RunningGuest } from './fixture.ts';

describe('GET /heap-settled', () => {
  let g: RunningGuest;
  before(async () => { g = await startGuest(); });
  after(() => g?.stop());

  test('answers once the memory reducer has run after the guest\'s start, having seen its collections (the native guest: at once)', async () => {
    const settled = await g.client.heapSettled({ timeoutMs: 40_000 });
    assert.equal(settled.settled, true, JSON.stringify(settled));
    if (GUEST_BIN) {
      assert.deepEqual(settled, { settled: true, reducerCollections: 0 });
      return;
    }
    assert.ok(settled.reducerCollections >= 2, JSON.stringify(settled));
    assert.ok(settled.msSinceReducerCollection !== undefined && settled.msSinceReducerCollection >= 0);
  });

  test('refuses a wait it would not honour, and a caller without the access token', async () => {
    for (const bad of ['-1', '1.5', 'soon', String(HEAP_SETTLED_MAX_WAIT_MS + 1)]) {
      const res = await fetch(`${g.url}/heap-settled?timeoutMs=${bad}`, { headers: { 'x-access-token': g.accessToken } });
      assert.equal(res.status, 400, bad);
      assert.match(((await res.json()) as { message: string }).message, /timeoutMs must be whole milliseconds/);
    }
    assert.equal((await fetch(`${g.url}/heap-settled`)).status, 401);
  });
});

describe('which collections are the memory reducer\'s', () => {
  test('a forced full collection is not, and without the reducer nothing ever settles', async () => {
    // A process of its own: V8 flags are fixed at start.
    const code = `
      const { HeapSettle } = await import(${JSON.stringify(join(ROOT, 'src/guest/heap-settle.ts'))});
      const heap = new HeapSettle();
      const kept = Array.from({ length: 200_000 }, (_, i) => ({ i, s: 'x'.repeat(50) + i }));
      gc();
      kept.length = 0;
      gc();
      process.stdout.write(JSON.stringify(await heap.until(1000)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--no-memory-reducer', '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT });
    assert.deepEqual(JSON.parse(stdout) as HeapSettledStatus, { settled: false, reducerCollections: 0 });
  });

  test('the reducer is done after its third collection, or after its second and a pause', () => {
    assert.equal(reducerDone(0, 60_000), false, 'not yet run');
    assert.equal(reducerDone(1, 60_000), false, 'a first collection is always followed by another');
    assert.equal(reducerDone(2, 100), false, 'a third may follow 0.6 s after the second');
    assert.equal(reducerDone(2, 5_000), true);
    assert.equal(reducerDone(3, 0), true);
  });
});
