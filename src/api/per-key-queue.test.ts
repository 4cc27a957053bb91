// One key's operations run in order, even when one fails; different keys do not wait for each other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PerKeyQueue } from './per-key-queue.ts';

const gate = () => { let open!: () => void; const opened = new Promise<void>((r) => { open = r; }); return { open, opened }; };

test('operations on one key run one after another, a failure does not stop the next', async () => {
  const q = new PerKeyQueue();
  const order: string[] = [];
  const g = gate();
  const first = q.run('a', async () => { order.push('a1 start'); await g.opened; order.push('a1 end'); throw new Error('a1 failed'); });
  const second = q.run('a', async () => { order.push('a2'); return 2; });
  const other = await q.run('b', async () => { order.push('b1'); return 'b'; });
  assert.equal(other, 'b');
  assert.deepEqual(order, ['a1 start', 'b1'], 'b ran while a1 was still waiting; a2 did not');
  g.open();
  await assert.rejects(first, /a1 failed/);
  assert.equal(await second, 2);
  assert.deepEqual(order, ['a1 start', 'b1', 'a1 end', 'a2']);
});
