// Sandbox and claim expiry, with `now` passed in: no clock, no API server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../api/k8s/types.ts';
import { claimExpiry, expiryState, MIN_EXPIRY_REQUEUE_MS, sandboxExpiry } from './expiry.ts';

const at = (iso: string) => new Date(iso);
const finished = (lastTransitionTime: string, status: Condition['status'] = 'True'): Condition =>
  ({ type: 'Finished', status, reason: 'PodSucceeded', message: '', lastTransitionTime });

describe('k8s expiry', () => {
  it('a Sandbox expires at its shutdownTime, and never without one', () => {
    assert.deepEqual(sandboxExpiry('2026-01-01T00:00:10Z'), at('2026-01-01T00:00:10Z'));
    assert.equal(sandboxExpiry(undefined), null);
  });

  it('a claim expires at the earliest of shutdownTime and Finished + ttlSecondsAfterFinished', () => {
    const lifecycle = { shutdownTime: '2026-01-01T01:00:00Z', ttlSecondsAfterFinished: 60 };
    assert.deepEqual(claimExpiry(lifecycle, finished('2026-01-01T00:00:00Z')), at('2026-01-01T00:01:00Z'));
    assert.deepEqual(claimExpiry(lifecycle, finished('2026-01-01T00:59:30Z')), at('2026-01-01T01:00:00Z'));
  });

  it('the TTL counts only once the claim is Finished', () => {
    assert.equal(claimExpiry({ ttlSecondsAfterFinished: 0 }, undefined), null);
    assert.equal(claimExpiry({ ttlSecondsAfterFinished: 0 }, finished('2026-01-01T00:00:00Z', 'False')), null);
    assert.deepEqual(claimExpiry({ ttlSecondsAfterFinished: 0 }, finished('2026-01-01T00:00:00Z')), at('2026-01-01T00:00:00Z'));
    assert.equal(claimExpiry(undefined, finished('2026-01-01T00:00:00Z')), null);
  });

  it('is expired from the deadline on; before it, requeues for the time left but never sooner than the floor', () => {
    const deadline = at('2026-01-01T00:00:10Z');
    assert.deepEqual(expiryState(deadline, deadline), { expired: true });
    assert.deepEqual(expiryState(deadline, at('2026-01-01T00:00:11Z')), { expired: true });
    assert.deepEqual(expiryState(deadline, at('2026-01-01T00:00:00Z')), { expired: false, requeueMs: 10_000 });
    assert.deepEqual(expiryState(deadline, at('2026-01-01T00:00:09.999Z')), { expired: false, requeueMs: MIN_EXPIRY_REQUEUE_MS });
    assert.deepEqual(expiryState(null, deadline), { expired: false, requeueMs: null });
  });
});
