// The warm-pool create limiter's arithmetic, with time as a parameter.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('grants a whole burst at once, then refills at its rate', () => {
    const b = new TokenBucket(10, 5, 0);
    assert.equal(b.take(8, 0), 5);
    assert.equal(b.take(1, 0), 0);
    assert.equal(b.msUntilNext(0), 100);
    assert.equal(b.take(8, 250), 2, '2.5 tokens after 250 ms at 10/s: two whole ones');
    assert.equal(b.msUntilNext(250), 50, 'the half token left needs 50 ms more');
    assert.equal(b.take(100, 10_000), 5, 'never more than the burst, however long it rested');
  });

  it('does not limit when the rate is 0', () => {
    const b = new TokenBucket(0, 1, 0);
    assert.equal(b.take(1000, 0), 1000);
    assert.equal(b.msUntilNext(0), 0);
  });
});
