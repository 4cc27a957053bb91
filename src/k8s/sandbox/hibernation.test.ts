// The pure parts of memory hibernation: whether a Sandbox asks for it (itself or its template's
// pod template), its snapshot annotation, and pinning the restored pod to the snapshot's node; and
// the decisions of a fork and of a restore whose node is gone, with the node agents and the API
// recorded in memory (the real checkpoints and restores are test/k8s/hibernation-real-node.test.ts
// and test/k8s/golden-pool-real-node.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentboxError } from '../../api/errors.ts';
import type { CheckpointRequest, CheckpointResponse } from '../../api/k8s/node-agent.ts';
import type { Sandbox } from '../../api/k8s/types.ts';
import type { NodeAgents } from '../node/client.ts';
import type { RestoreNodes } from '../node/placement.ts';
import type { SnapshotRecords } from '../snapshot/records.ts';
import { Hibernator, pinToNode, snapshotOf, wantsMemoryHibernation } from './hibernation.ts';
import type { Pod } from './pod.ts';

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

describe('fork of a Sandbox, running or suspended', () => {
  const pod = (name: string, extra: Partial<Pod['status']> = { phase: 'Running' }) => ({
    metadata: { name, namespace: 'n', uid: `uid-${name}`, annotations: {} },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'busybox' }] },
    status: extra,
  }) as unknown as Pod;
  const suspended = (name: string, snapshot?: object) => ({
    metadata: { name, namespace: 'n', annotations: snapshot ? { 'agentbox.dev/hibernation-snapshot': JSON.stringify(snapshot) } : {} },
    spec: { operatingMode: 'Suspended', podTemplate: { spec: { containers: [] } } },
  }) as unknown as Sandbox;
  /** The agents and the API recorded in memory; the source Sandbox is running `source`, or `sandbox` with no pod. */
  const world = (source: Pod | null | 'none', sandbox: Sandbox = sb(), restoreError?: AgentboxError, restoreNodes?: RestoreNodes) => {
    const calls: { checkpoints: CheckpointRequest[]; restores: string[]; restoreOn: string[]; recorded: string[]; moved: string[]; released: string[]; deleted: string[]; revoked: string[]; patches: unknown[]; events: string[] } =
      { checkpoints: [], restores: [], restoreOn: [], recorded: [], moved: [], released: [], deleted: [], revoked: [], patches: [], events: [] };
    const agents = {
      checkpoint: async (_node: string, req: CheckpointRequest): Promise<CheckpointResponse> => {
        calls.checkpoints.push(req);
        return { snapshotId: 'snap-0123456789abcdef', node: 'node-1', sizeBytes: 4096, checkpointMs: 12, sealMs: 1, manifestSha256: 'a'.repeat(64), storage: 'Node', location: 'node://node-1/x' };
      },
      prepareRestore: async (node: string, req: { name: string; snapshotId: string }) => {
        if (restoreError) throw restoreError;
        calls.restores.push(`${req.name}<-${req.snapshotId}`);
        calls.restoreOn.push(node);
        return { restoreFrom: `/snap/${req.snapshotId}`, verifyMs: 1 };
      },
      deleteSnapshot: async (_node: string, _ns: string, id: string) => { calls.deleted.push(id); },
      revokeRestore: async (node: string, _ns: string, id: string, podName: string) => { calls.revoked.push(`${podName} of ${id} on ${node}`); },
      installRuntime: async () => { throw new Error('unused'); },
    } as unknown as NodeAgents;
    const h = new Hibernator({
      agents,
      events: { record: (_o, type, reason, _a, note) => calls.events.push(`${type} ${reason}: ${note}`) },
      records: {
        record: async (sb: Sandbox, snap: CheckpointResponse, of: string) => { calls.recorded.push(`${snap.snapshotId} of ${of} owned by ${sb.metadata.name}`); return {}; },
        release: async (_ns: string, id: string) => { calls.released.push(id); return true; },
        moveTo: async (_ns: string, id: string, node: string) => { calls.moved.push(`${id}->${node}`); },
      } as unknown as SnapshotRecords,
      ...(restoreNodes ? { restoreNodes } : {}),
      patchSandbox: async (_sb, patch) => { calls.patches.push(patch); },
      sourceOf: async (_ns, name) => {
        if (source === 'none') throw new AgentboxError('not_found', `there is no Sandbox ${name} in namespace n`);
        return { sandbox, pod: source };
      },
    });
    return { h, calls };
  };
  const annotationsOf = (patch: unknown) => (patch as { metadata: { annotations: Record<string, string | null> } }).metadata.annotations;

  it("checkpoints the source's running pod with it left running, and restores the fork's first pod from that, pinned to the node", async () => {
    const { h, calls } = world(pod('source'));
    const step = await h.restorePod(sb({ 'agentbox.dev/fork-from': 'source' }), pod('s'));
    assert.deepEqual(calls.checkpoints, [{ namespace: 'n', name: 'source', uid: 'uid-source', leaveRunning: true }]);
    assert.deepEqual(calls.recorded, ['snap-0123456789abcdef of source owned by s']);
    const annotations = (calls.patches[0] as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
    assert.deepEqual(JSON.parse(annotations['agentbox.dev/hibernation-snapshot']!), { id: 'snap-0123456789abcdef', node: 'node-1', podUid: 'uid-source', storage: 'Node' });
    assert.deepEqual({ ...JSON.parse(annotations['agentbox.dev/forked']!), at: 'x' }, { from: 'source', snapshot: 'snap-0123456789abcdef', at: 'x' });
    assert.deepEqual(calls.restores, ['s<-snap-0123456789abcdef']);
    assert.equal(step.pod?.metadata.annotations?.['agentbox.dev/restore-from'], '/snap/snap-0123456789abcdef');
    assert.ok(JSON.stringify(step.pod?.spec.affinity).includes('"values":["node-1"]'));
    assert.equal(step.condition?.reason, 'Restoring');
    assert.match(calls.events[0]!, /^Normal Forked: forked Sandbox source: memory snapshot snap-0123456789abcdef \(4 KiB\) of its running pod on node node-1/);
  });

  it("forks the golden Sandbox its template's pod template names, unless the Sandbox itself says otherwise", async () => {
    const { h, calls } = world(pod('golden'));
    await h.restorePod(sb(undefined, { 'agentbox.dev/fork-from': 'golden' }), pod('s'));
    assert.deepEqual(calls.checkpoints.map((c) => c.name), ['golden']);
    const plain = world(pod('golden'));
    const step = await plain.h.restorePod(sb({ 'agentbox.dev/fork-from': '' }, { 'agentbox.dev/fork-from': 'golden' }), pod('golden'));
    assert.deepEqual(plain.calls.checkpoints, [], 'the golden Sandbox itself, made with the same pod template, starts plainly');
    assert.equal(step.pod?.metadata.annotations?.['agentbox.dev/restore-from'], undefined);
  });

  it('never forks again once the fork was taken: a later pod starts as any pod does', async () => {
    const { h, calls } = world(pod('source'));
    const step = await h.restorePod(sb({ 'agentbox.dev/fork-from': 'source', 'agentbox.dev/forked': '{"from":"source"}' }), pod('s'));
    assert.deepEqual(calls.checkpoints, []);
    assert.equal(step.pod?.metadata.annotations?.['agentbox.dev/restore-from'], undefined);
  });

  it('waits, and says why, while the source has no running pod; refuses itself and a missing source without retrying', async () => {
    for (const [source, self, pattern, retried] of [
      [pod('source', { phase: 'Pending' }), false, /fork of Sandbox source failed: Sandbox source has neither a running pod nor a stored memory snapshot to fork yet; no pod is started until it succeeds/, true],
      ['none', false, /fork of Sandbox source failed: there is no Sandbox source in namespace n;/, false],
      [pod('s'), true, /a Sandbox cannot fork itself/, false],
    ] as const) {
      const { h, calls } = world(source);
      const step = await h.restorePod(sb({ 'agentbox.dev/fork-from': self ? 's' : 'source' }), pod('s'));
      assert.equal(step.pod, null);
      assert.equal(step.condition?.reason, 'ForkFailed');
      assert.match(step.condition!.message, pattern);
      assert.equal(step.requeueAfterMs !== undefined, retried);
      assert.deepEqual(calls.checkpoints, []);
      assert.match(calls.events[0]!, /^Warning ForkFailed: /);
    }
  });

  it('starts fresh when the fork fails and cold start is allowed, and does not fork later', async () => {
    const { h, calls } = world(pod('source', { phase: 'Pending' }));
    const step = await h.restorePod(sb({ 'agentbox.dev/fork-from': 'source', 'agentbox.dev/hibernation-fallback': 'cold-start' }), pod('s'));
    assert.equal(step.pod?.metadata.name, 's');
    assert.equal(step.pod?.metadata.annotations?.['agentbox.dev/restore-from'], undefined);
    assert.match(step.condition!.message, /started without its memory/);
    const forked = (calls.patches[0] as { metadata: { annotations: Record<string, string> } }).metadata.annotations['agentbox.dev/forked']!;
    assert.equal(JSON.parse(forked).coldStart, true);
  });

  const stored = { id: 'snap-00000000golden1', node: 'node-2', podUid: 'uid-golden' };

  it("restores a suspended source's stored snapshot without a checkpoint, and leaves the snapshot to the source", async () => {
    const { h, calls } = world(null, suspended('golden', stored));
    const step = await h.restorePod(sb({ 'agentbox.dev/fork-from': 'golden' }), pod('s'));
    assert.deepEqual(calls.checkpoints, [], 'one stored snapshot serves every fork: none is taken');
    assert.deepEqual(calls.recorded, []);
    assert.deepEqual(JSON.parse(annotationsOf(calls.patches[0])['agentbox.dev/hibernation-snapshot']!), { ...stored, sharedFrom: 'golden' });
    assert.equal(JSON.parse(annotationsOf(calls.patches[0])['agentbox.dev/forked']!).snapshot, stored.id);
    assert.deepEqual(calls.restores, [`s<-${stored.id}`]);
    assert.ok(JSON.stringify(step.pod?.spec.affinity).includes('"values":["node-2"]'), "pinned to the snapshot's node");
    assert.match(calls.events[0]!, /^Normal Forked: forked Sandbox golden: its stored memory snapshot snap-00000000golden1 on node node-2, which stays with it/);

    // Once the restored pod is Ready the fork forgets the snapshot, whose data and object stay, and
    // the pod's grant to it goes (a container restarting later starts fresh).
    const fork = sb({ 'agentbox.dev/hibernation-snapshot': JSON.stringify({ ...stored, sharedFrom: 'golden' }) });
    const ready = { ...step.pod!, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } as Pod;
    const done = await h.afterReady(fork, ready);
    assert.match(done!.message, /the snapshot stays with Sandbox golden/);
    assert.deepEqual(calls.revoked, [`s of ${stored.id} on node-2`]);
    assert.deepEqual(calls.released, []);
    assert.deepEqual(calls.deleted, []);
    assert.deepEqual(annotationsOf(calls.patches.at(-1)), { 'agentbox.dev/hibernation-snapshot': null });
  });

  it('waits for a suspended source that has no stored snapshot yet, never checkpointing its pod while it is being suspended', async () => {
    for (const sourcePod of [null, pod('golden')]) {
      const { h, calls } = world(sourcePod, suspended('golden'));
      const step = await h.restorePod(sb({ 'agentbox.dev/fork-from': 'golden' }), pod('s'));
      assert.equal(step.pod, null);
      assert.match(step.condition!.message, /neither a running pod nor a stored memory snapshot/);
      assert.ok(step.requeueAfterMs);
      assert.deepEqual([calls.checkpoints, calls.restores], [[], []]);
    }
  });

  it("restores the stored snapshot of a source whose pod is still going away after its suspend's checkpoint", async () => {
    const { h, calls } = world({ ...pod('golden'), metadata: { ...pod('golden').metadata, deletionTimestamp: 'now' } } as Pod, suspended('golden', stored));
    await h.restorePod(sb({ 'agentbox.dev/fork-from': 'golden' }), pod('s'));
    assert.deepEqual(calls.checkpoints, []);
    assert.deepEqual(calls.restores, [`s<-${stored.id}`]);
  });

  it("forgets a source's snapshot it could not restore, so the next pass forks the source afresh", async () => {
    const gone = new AgentboxError('not_found', `snapshot ${stored.id} of namespace n is not on node node-2`);
    const { h, calls } = world(null, suspended('golden', stored), gone);
    const fork = sb({ 'agentbox.dev/fork-from': 'golden', 'agentbox.dev/forked': '{"from":"golden"}', 'agentbox.dev/hibernation-snapshot': JSON.stringify({ ...stored, sharedFrom: 'golden' }) });
    const step = await h.restorePod(fork, pod('s'));
    assert.equal(step.pod, null);
    assert.equal(step.condition?.reason, 'RestoreFailed');
    assert.ok(step.requeueAfterMs);
    assert.deepEqual(annotationsOf(calls.patches.at(-1)), { 'agentbox.dev/hibernation-snapshot': null, 'agentbox.dev/forked': null });
    assert.deepEqual([calls.released, calls.deleted], [[], []], "the source's snapshot is not ours to delete");
  });
});

describe('restore when the snapshot\'s node is gone', () => {
  const pod = { metadata: { name: 's', namespace: 'n', annotations: {} }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } as unknown as Pod;
  const suspendedWith = (ref: object) => ({
    metadata: { name: 's', namespace: 'n', annotations: { 'agentbox.dev/hibernation': 'memory', 'agentbox.dev/hibernation-snapshot': JSON.stringify(ref) } },
    spec: { podTemplate: { spec: { containers: [] } } },
  }) as unknown as Sandbox;
  const ref = { id: 'snap-0123456789abcdef', node: 'node-a', podUid: 'u' };
  /** node-a took the snapshot; `ready` are the Ready gVisor nodes. */
  const nodes = (ready: string[]): RestoreNodes => ({ isReady: async (n) => ready.includes(n), ready: async () => ready });
  const restoring = async (snap: object, ready: string[]) => {
    const calls = { restoreOn: [] as string[], moved: [] as string[], patches: [] as unknown[], events: [] as string[] };
    const h = new Hibernator({
      agents: {
        prepareRestore: async (node: string, req: { snapshotId: string }) => { calls.restoreOn.push(node); return { restoreFrom: `/snap/${req.snapshotId}`, verifyMs: 1 }; },
      } as unknown as NodeAgents,
      restoreNodes: nodes(ready),
      events: { record: (_o, type, reason, _a, note) => calls.events.push(`${type} ${reason}: ${note}`) },
      records: { moveTo: async (_ns: string, id: string, node: string) => { calls.moved.push(`${id}->${node}`); } } as unknown as SnapshotRecords,
      patchSandbox: async (_sb, patch) => { calls.patches.push(patch); },
      sourceOf: async () => { throw new Error('unused'); },
    });
    return { step: await h.restorePod(suspendedWith(snap), pod), calls };
  };

  it('restores on its own node while that is Ready', async () => {
    const { step, calls } = await restoring({ ...ref, storage: 'S3' }, ['node-a', 'node-b']);
    assert.deepEqual(calls.restoreOn, ['node-a']);
    assert.deepEqual(calls.moved, []);
    assert.ok(JSON.stringify(step.pod?.spec.affinity).includes('"values":["node-a"]'));
  });

  it('restores a snapshot kept in the object store on another Ready gVisor node, moving its object and annotation there', async () => {
    const { step, calls } = await restoring({ ...ref, storage: 'S3' }, ['node-b']);
    assert.deepEqual(calls.moved, ['snap-0123456789abcdef->node-b']);
    assert.deepEqual(calls.restoreOn, ['node-b']);
    assert.ok(JSON.stringify(step.pod?.spec.affinity).includes('"values":["node-b"]'));
    const annotation = (calls.patches[0] as { metadata: { annotations: Record<string, string> } }).metadata.annotations['agentbox.dev/hibernation-snapshot']!;
    assert.deepEqual(JSON.parse(annotation), { ...ref, storage: 'S3', node: 'node-b' });
    assert.match(calls.events[0]!, /^Normal Restoring: node node-a, which holds memory snapshot snap-0123456789abcdef, is gone or not Ready: restoring it from the object store on node node-b/);
  });

  it('says why it cannot: a node-local snapshot, no other Ready node, a snapshot shared from another Sandbox', async () => {
    for (const [snap, ready, pattern] of [
      [{ ...ref, storage: 'Node' }, ['node-b'], /is gone or not Ready, and the snapshot is kept on that node only \(node agents started with --store/],
      [ref, ['node-b'], /kept on that node only/],
      [{ ...ref, storage: 'S3' }, [], /no other gVisor node is Ready to restore it from the object store/],
      [{ ...ref, storage: 'S3', sharedFrom: 'golden' }, ['node-b'], /Sandbox golden's snapshot is restored on that node only/],
    ] as const) {
      const { step, calls } = await restoring(snap, [...ready]);
      assert.equal(step.pod, null);
      assert.equal(step.condition?.reason, 'RestoreFailed');
      assert.match(step.condition!.message, pattern);
      assert.deepEqual([calls.restoreOn, calls.moved], [[], []]);
    }
  });
});
