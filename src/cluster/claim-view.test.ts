import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxClaim } from '../api/k8s/types.ts';
import { claimDetail, claimState, shutdownTimeAfter } from './claim-view.ts';

const claim = (status: SandboxClaim['status'], extra: Partial<SandboxClaim['metadata']> = {}): SandboxClaim => ({
  metadata: {
    name: 'abc', creationTimestamp: '2026-11-30T03:00:00Z',
    labels: { 'agentbox.dev/tenant': 't1', 'agentbox.dev/template': 'base' },
    annotations: { 'agentbox.dev/metadata': '{"team":"a"}', 'agentbox.dev/timeout-seconds': '300' }, ...extra,
  },
  spec: { warmPoolRef: { name: 'agentbox-base' }, lifecycle: { shutdownTime: '2026-11-30T03:05:00Z', shutdownPolicy: 'Delete' } },
  ...(status ? { status } : {}),
});
const ready = (status: 'True' | 'False', reason: string, sandbox?: string) =>
  ({ conditions: [{ type: 'Ready', status, reason, message: `m:${reason}`, lastTransitionTime: '2026-11-30T03:00:01Z' }], ...(sandbox ? { sandbox: { name: sandbox } } : {}) });

describe('claim view', () => {
  it('is running only when Ready and bound, failed on a terminal reason, else creating', () => {
    assert.equal(claimState(claim(undefined)), 'creating');
    assert.equal(claimState(claim(ready('True', 'DependenciesReady'))), 'creating', 'Ready without a bound sandbox is not usable yet');
    assert.equal(claimState(claim(ready('True', 'DependenciesReady', 'abc'))), 'running');
    assert.equal(claimState(claim(ready('False', 'ClaimExpired', 'abc'))), 'failed');
    assert.equal(claimState(claim(ready('False', 'DependenciesNotReady', 'abc'))), 'creating');
  });

  it('carries metadata, timeout, expiry and the guest token of a running sandbox', () => {
    const d = claimDetail(claim(ready('True', 'DependenciesReady', 'pool-x1')), 'tok');
    assert.deepEqual([d.id, d.template, d.state, d.metadata, d.timeoutSeconds, d.expiresAt, d.fromPool, d.guest?.accessToken],
      ['abc', 'base', 'running', { team: 'a' }, 300, '2026-11-30T03:05:00.000Z', true, 'tok']);
    assert.equal(claimDetail(claim(ready('True', 'DependenciesReady', 'abc')), 'tok').fromPool, false, 'a cold Sandbox is named after its claim');
    assert.equal(claimDetail(claim(undefined), 'tok').guest, undefined, 'no guest before it runs');
    assert.equal(claimDetail(claim(ready('False', 'ClaimExpired')), undefined).error, 'm:ClaimExpired');
    assert.deepEqual(claimDetail(claim(undefined, { annotations: { 'agentbox.dev/metadata': 'not json' } }), undefined).metadata, {});
  });

  it('a filesystem-pause sandbox: its timer is the expires-at annotation, stopped while its Sandbox is suspended', () => {
    const fs = claim(ready('True', 'DependenciesReady', 'abc'), { annotations: { 'agentbox.dev/on-timeout': 'pause_filesystem', 'agentbox.dev/expires-at': '2026-11-30T03:09:00Z' } });
    const running = claimDetail(fs, 'tok');
    assert.deepEqual([running.state, running.onTimeout, running.expiresAt], ['running', 'pause_filesystem', '2026-11-30T03:09:00.000Z']);
    const paused = claimDetail(fs, 'tok', true);
    assert.deepEqual([paused.state, paused.expiresAt, paused.guest], ['paused', undefined, undefined]);
  });

  it('puts shutdownTime on whole seconds, never before the timeout', () => {
    assert.equal(shutdownTimeAfter(Date.parse('2026-11-30T03:00:00.000Z'), 60), '2026-11-30T03:01:00Z');
    assert.equal(shutdownTimeAfter(Date.parse('2026-11-30T03:00:00.400Z'), 60), '2026-11-30T03:01:01Z');
  });
});
