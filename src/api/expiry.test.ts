// Deadline arithmetic shared by the server and the operator, with `now` passed in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deadlineAfter, earliest, isPast, recheckDelay } from './expiry.ts';

describe('deadline arithmetic', () => {
  it('a deadline is seconds after its start, and past from its own millisecond on', () => {
    assert.equal(deadlineAfter(1_000, 30), 31_000);
    assert.equal(isPast(31_000, 30_999), false);
    assert.equal(isPast(31_000, 31_000), true);
  });

  it('the earliest of several deadlines wins; none is null', () => {
    assert.equal(earliest([5_000, 2_000, 9_000]), 2_000);
    assert.equal(earliest([]), null);
  });

  it('waits for the time left, clamped to the floor and the ceiling', () => {
    assert.equal(recheckDelay(10_000, 4_000, 1_000), 6_000);
    assert.equal(recheckDelay(10_000, 9_900, 1_000), 1_000);
    assert.equal(recheckDelay(10_000, 4_000, 1_000, 5_000), 5_000);
    assert.equal(recheckDelay(10_000, 20_000, 1_000, 5_000), 1_000, 'a past deadline is looked at after the floor');
  });
});
