// The pool capacity rules (OpenSandbox's meaning) as pure functions; test/server/pool-capacity.test.ts
// runs them on a server's warm pools.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentboxError } from './errors.ts';
import { capacityOf, desiredIdle, peakIdle } from './pool-capacity.ts';

describe('pool capacity', () => {
  test('size N keeps exactly N idle whatever was claimed, with no bound on the total', () => {
    const c = capacityOf({ size: 3 });
    for (const allocated of [0, 5, 500]) {
      assert.equal(desiredIdle(c, { idle: 0, allocated }), 3);
      assert.equal(desiredIdle(c, { idle: 7, allocated }), 3);
      assert.equal(desiredIdle(c, { idle: 3, allocated }), 3);
    }
    assert.equal(peakIdle(c), 3);
    assert.equal(desiredIdle(capacityOf({ size: 0 }), { idle: 2, allocated: 1 }), 0);
  });

  test('idle within [bufferMin, bufferMax] is left alone; outside it the pool aims at the middle', () => {
    const c = capacityOf({ bufferMin: 2, bufferMax: 6, poolMin: 0, poolMax: 100 });
    assert.equal(desiredIdle(c, { idle: 0, allocated: 0 }), 4);
    assert.equal(desiredIdle(c, { idle: 1, allocated: 10 }), 4);
    assert.equal(desiredIdle(c, { idle: 2, allocated: 10 }), 2);
    assert.equal(desiredIdle(c, { idle: 6, allocated: 0 }), 6);
    assert.equal(desiredIdle(c, { idle: 9, allocated: 0 }), 4);
  });

  test('the total is raised to poolMin and capped at poolMax (poolMax wins), never below zero idle', () => {
    const c = capacityOf({ bufferMin: 1, bufferMax: 2, poolMin: 5, poolMax: 8 });
    assert.equal(desiredIdle(c, { idle: 0, allocated: 0 }), 5, 'poolMin fills the pool beyond bufferMax');
    assert.equal(desiredIdle(c, { idle: 0, allocated: 3 }), 2, 'allocated members count towards poolMin');
    assert.equal(desiredIdle(c, { idle: 0, allocated: 7 }), 1, 'poolMax leaves room for one more');
    assert.equal(desiredIdle(c, { idle: 2, allocated: 8 }), 0, 'at poolMax nothing more is started, idle ones go');
    assert.equal(desiredIdle(c, { idle: 0, allocated: 12 }), 0);
    assert.equal(peakIdle(c), 5);
    assert.equal(peakIdle(capacityOf({ bufferMin: 4, bufferMax: 9, poolMin: 0, poolMax: 6 })), 6);
  });

  test('an inverted range is refused naming both bounds', () => {
    for (const [sizing, re] of [
      [{ bufferMin: 5, bufferMax: 2, poolMin: 0, poolMax: 9 }, /bufferMin 5 is above bufferMax 2/],
      [{ bufferMin: 0, bufferMax: 2, poolMin: 9, poolMax: 3 }, /poolMin 9 is above poolMax 3/],
    ] as const) {
      assert.throws(() => capacityOf(sizing), (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && re.test(e.message));
    }
  });
});
