// Sandbox status computation (pure): the reasons that are awkward to provoke through a real API
// server (a failed pod lookup) and the exact provisioning messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeStatus, type Observed } from './status.ts';
import type { Sandbox } from '../../api/k8s/types.ts';
import type { Pod } from './pod.ts';

const sb: Sandbox = { metadata: { name: 's', namespace: 'n', generation: 3 }, spec: { podTemplate: { spec: { containers: [] } } } };
const now = new Date('2026-01-01T00:00:00Z');
const base: Observed = { sandbox: sb, pod: null, suspended: false, serviceRequired: false, serviceName: null, clusterDomain: 'cluster.local', now };
const cond = (o: Partial<Observed>, type: string) => computeStatus({ ...base, ...o }).conditions!.find((c) => c.type === type);
const pod = (status: Pod['status']): Pod => ({ metadata: { name: 's' }, spec: { containers: [] }, status });

describe('sandbox status', () => {
  it('reports PodStateUnknown when the pod cannot be looked up while suspending', () => {
    const c = cond({ suspended: true, podLookupFailed: true }, 'Suspended')!;
    assert.deepEqual([c.status, c.reason], ['Unknown', 'PodStateUnknown']);
    assert.equal(c.observedGeneration, 3);
  });

  it('names what is missing while provisioning', () => {
    assert.equal(cond({ serviceRequired: true }, 'Ready')!.message, 'Pod does not exist; Service does not exist');
    assert.equal(cond({ pod: pod({ phase: 'Running' }) }, 'Ready')!.message, 'Pod is Running but not Ready');
    assert.equal(cond({ pod: pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }) }, 'Ready')!.message, 'Pod is Ready but has no podIPs yet');
    const ready = pod({ phase: 'Running', podIPs: [{ ip: '127.1.0.1' }], conditions: [{ type: 'Ready', status: 'True' }] });
    assert.equal(cond({ pod: ready, serviceRequired: true }, 'Ready')!.message, 'Pod is Ready; Service does not exist');
    assert.deepEqual([cond({ pod: ready }, 'Ready')!.status, cond({ pod: ready }, 'Ready')!.reason], ['True', 'DependenciesReady']);
  });

  it('mirrors PodScheduled with its fallbacks', () => {
    assert.equal(cond({ pod: pod({ phase: 'Pending' }) }, 'PodScheduled')!.reason, 'PodSchedulingUnknown');
    assert.equal(cond({ pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }) }, 'PodScheduled')!.reason, 'PodScheduled');
    assert.equal(cond({ pod: pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] }) }, 'PodScheduled')!.reason, 'Unschedulable');
    assert.equal(cond({}, 'PodScheduled'), undefined);
  });

  it('keeps lastTransitionTime while the status does not change', () => {
    const first = computeStatus(base);
    const later = computeStatus({ ...base, sandbox: { ...sb, status: first }, now: new Date('2026-01-01T01:00:00Z') });
    assert.equal(later.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, '2026-01-01T00:00:00Z');
  });
});
