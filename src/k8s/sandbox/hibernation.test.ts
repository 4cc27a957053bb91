// The pure parts of memory hibernation: whether a Sandbox asks for it (itself or its template's
// pod template), its snapshot annotation, and pinning the restored pod to the snapshot's node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox } from '../../api/k8s/types.ts';
import { pinToNode, snapshotOf, wantsMemoryHibernation } from './hibernation.ts';

const sb = (annotations?: Record<string, string>, podAnnotations?: Record<string, string>) => ({
  metadata: { name: 's', namespace: 'n', annotations },
  spec: { podTemplate: { metadata: { annotations: podAnnotations }, spec: { containers: [] } } },
}) as unknown as Sandbox;

describe('memory hibernation', () => {
  it('is asked for on the Sandbox or inherited from its pod template, the Sandbox winning', () => {
    assert.equal(wantsMemoryHibernation(sb({ 'agentbox.dev/hibernation': 'memory' })), true);
    assert.equal(wantsMemoryHibernation(sb(undefined, { 'agentbox.dev/hibernation': 'memory' })), true);
    assert.equal(wantsMemoryHibernation(sb({ 'agentbox.dev/hibernation': 'none' }, { 'agentbox.dev/hibernation': 'memory' })), false);
    assert.equal(wantsMemoryHibernation(sb()), false);
  });

  it('reads the snapshot annotation, ignoring a malformed one', () => {
    const ref = { id: 'snap-0123456789abcdef', node: 'n1', podUid: 'u' };
    assert.deepEqual(snapshotOf(sb({ 'agentbox.dev/hibernation-snapshot': JSON.stringify(ref) })), ref);
    assert.equal(snapshotOf(sb({ 'agentbox.dev/hibernation-snapshot': '{"id":1}' })), null);
    assert.equal(snapshotOf(sb({ 'agentbox.dev/hibernation-snapshot': 'nope' })), null);
  });

  it('pins a pod to the node, within every node selector term the template has', () => {
    const field = { key: 'metadata.name', operator: 'In', values: ['n1'] };
    assert.deepEqual(pinToNode({ containers: [] }, 'n1').affinity,
      { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [field] }] } } });
    const zoneA = { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] };
    const pinned = pinToNode({ containers: [], affinity: { podAntiAffinity: { x: 1 }, nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [zoneA, { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }] }] },
    } } }, 'n1');
    assert.deepEqual(pinned.affinity, { podAntiAffinity: { x: 1 }, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { ...zoneA, matchFields: [field] },
      { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }, field] },
    ] } } });
  });
});
