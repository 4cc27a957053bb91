// Warm-pool demand arithmetic with `now` passed in: no clock, no API server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, SandboxClaim } from '../../api/k8s/types.ts';
import { ArrivalLog } from './arrivals.ts';
import { isWaiting, wantedReplicas } from './demand.ts';

const MIN = 60_000;

describe('ArrivalLog', () => {
  it('counts arrivals within the window, each claim once', () => {
    const log = new ArrivalLog(60 * MIN);
    const now = 100 * MIN;
    log.record('ns/p', 'a', now - 30_000, now);
    log.record('ns/p', 'a', now - 30_000, now); // the same claim again (a re-list)
    log.record('ns/p', 'b', now - 2 * MIN, now);
    log.record('ns/q', 'c', now - 1_000, now);
    assert.equal(log.count('ns/p', MIN, now), 1);
    assert.equal(log.count('ns/p', 5 * MIN, now), 2);
    assert.equal(log.count('ns/q', MIN, now), 1);
    assert.equal(log.count('ns/none', MIN, now), 0);
  });

  it('ages arrivals out as time passes, and never looks past its retention', () => {
    const log = new ArrivalLog(10 * MIN);
    log.record('ns/p', 'a', 0, 0);
    assert.equal(log.count('ns/p', MIN, 30_000), 1);
    assert.equal(log.count('ns/p', MIN, MIN), 0, 'exactly one window old is outside it');
    assert.equal(log.count('ns/p', 60 * MIN, 20 * MIN), 0, 'a window longer than the retention is cut to it');
    log.record('ns/p', 'old', 0, 20 * MIN);
    assert.equal(log.count('ns/p', 60 * MIN, 20 * MIN), 0, 'a claim created before the retention is not recorded');
  });
});

describe('wantedReplicas', () => {
  it('is the arrivals of the window, never fewer than the claims waiting', () => {
    assert.equal(wantedReplicas(0, 0), 0, 'idle: a pool may go to zero');
    assert.equal(wantedReplicas(1, 1), 1, 'one claim at a pool at zero asks for one member');
    assert.equal(wantedReplicas(0, 7), 7);
    assert.equal(wantedReplicas(3, 1), 3, 'claims waiting longer than the window still count');
  });
});

describe('isWaiting', () => {
  const claim = (ready?: { status: Condition['status']; reason: string }, deleting = false): SandboxClaim => ({
    metadata: { name: 'c', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { warmPoolRef: { name: 'p' } },
    ...(ready ? { status: { conditions: [{ type: 'Ready', lastTransitionTime: '2026-01-01T00:00:00Z', message: '', ...ready }] } } : {}),
  });

  it('is a claim with no Ready sandbox yet that may still get one', () => {
    assert.equal(isWaiting(claim()), true, 'not looked at yet');
    assert.equal(isWaiting(claim({ status: 'False', reason: 'SandboxNotReady' })), true);
    assert.equal(isWaiting(claim({ status: 'True', reason: 'SandboxReady' })), false);
    assert.equal(isWaiting(claim({ status: 'False', reason: 'ClaimExpired' })), false, 'failed for good');
    assert.equal(isWaiting(claim(undefined, true)), false, 'being deleted');
  });
});
