// The expiry rules as pure functions of `now`; test/server/pools-lifecycle.test.ts runs the
// timers they drive on a server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoResumeTimeout, expiresAt, expiryAction, sleepUntil } from './expiry.ts';

describe('expiry functions', () => {
  test('are pure in now', () => {
    assert.equal(expiresAt(1000, 5), 6000);
    const rec = { state: 'running' as const, pooled: false, expiresAt: 6000, onTimeout: 'pause' as const };
    assert.equal(expiryAction(rec, 5999), 'none');
    assert.equal(expiryAction(rec, 6000), 'pause');
    assert.equal(expiryAction({ ...rec, state: 'paused' }, 9999), 'none');
    assert.equal(expiryAction({ ...rec, pooled: true }, 9999), 'none');
    assert.equal(expiryAction({ ...rec, expiresAt: null }, 9999), 'none');
    assert.equal(autoResumeTimeout(10), 300);
    assert.equal(autoResumeTimeout(900), 900);
    assert.equal(sleepUntil(undefined, 0, 50, 1000), 1000);
    assert.equal(sleepUntil(10, 0, 50, 1000), 50);
    assert.equal(sleepUntil(500, 0, 50, 1000), 500);
  });
});
