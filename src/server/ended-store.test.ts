import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb } from './db.ts';
import { EndedStore } from './ended-store.ts';

test('an ended sandbox is found by its own tenant only', () => {
  const ended = new EndedStore(openDb(':memory:'));
  ended.record({ id: 'a', tenantId: 't1', reason: 'expired', endedAt: 1000 });
  assert.deepEqual(ended.find('t1', 'a'), { id: 'a', tenantId: 't1', reason: 'expired', endedAt: 1000 });
  assert.equal(ended.find('t2', 'a'), undefined);
  ended.forget('a');
  assert.equal(ended.find('t1', 'a'), undefined);
});

test('the record is bounded: past its size the oldest ends go first', () => {
  const ended = new EndedStore(openDb(':memory:'), 3);
  for (const id of ['a', 'b', 'c', 'd']) ended.record({ id, tenantId: 't', reason: 'killed', endedAt: 1 });
  assert.deepEqual(['a', 'b', 'c', 'd'].map((id) => ended.find('t', id) !== undefined), [false, true, true, true]);
});
