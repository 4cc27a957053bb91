// SandboxWarmPool reconciler against a real kube-apiserver: filling from the template, scaling,
// rollout per update strategy, and the readiness grace period.
// The kubelet is played by the test (pod status patched), not the real node of test/k8s/real-node.test.ts:
// rollouts and the readiness grace period are checked by holding members un-Ready on purpose;
// a real pool member becoming Ready through its probe is in real-node.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NETWORK_POLICIES, PODS, EVENTS } from '../../src/k8s/client.ts';
import { SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import type { KubeObject, Sandbox, SandboxTemplate, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { autoKubelet, basicPodSpec, ensureEnv, KUBECONFIG, waitFor } from './harness.ts';
import { extensionsFixture } from './extensions-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s warm pool tests: ${skip}`);

describe('warm pool controller', { skip: skip ?? false }, () => {
  const f = extensionsFixture('pool');

  it('fills a warm pool with Sandboxes built from the template, secure defaults applied', async () => {
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns);
    try {
      await f.template('tpl-a', { podTemplate: { metadata: { labels: { app: 'agent' } }, spec: basicPodSpec() } });
      await f.pool('pool-a', 'tpl-a', 3);
      const p = await f.readyMembers('pool-a', 3);
      assert.equal(p.status?.selector, `agents.x-k8s.io/warm-pool-sandbox=${nameHash('pool-a')}`);
      assert.equal(p.status?.updatedReplicas, 3);
      assert.equal(p.status?.observedGeneration, p.metadata.generation);
      assert.equal(p.status?.conditions?.find((c) => c.type === 'RolledOut')?.reason, 'UpToDate');
      const ms = await f.members('pool-a');
      assert.equal(ms.length, 3);
      const m = ms[0]!;
      assert.match(m.metadata.name!, /^pool-a-/);
      assert.equal(m.metadata.labels?.['agents.x-k8s.io/launch-type'], 'warm');
      assert.equal(m.metadata.labels?.['agents.x-k8s.io/created-by'], 'controller');
      assert.equal(m.metadata.labels?.['agents.x-k8s.io/sandbox-template-ref-hash'], nameHash('tpl-a'));
      assert.ok(m.metadata.labels?.['agents.x-k8s.io/sandbox-template-hash']);
      assert.ok(m.metadata.labels?.['agents.x-k8s.io/sandbox-pod-template-hash']);
      assert.equal(m.metadata.annotations?.['agents.x-k8s.io/sandbox-template-ref'], 'tpl-a');
      assert.equal(m.metadata.ownerReferences?.[0]?.kind, 'SandboxWarmPool');
      assert.equal(m.spec.podTemplate.spec.dnsPolicy, 'None');
      assert.deepEqual(m.spec.podTemplate.spec.dnsConfig?.nameservers, ['8.8.8.8', '1.1.1.1']);
      assert.equal(m.spec.podTemplate.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict'], 'true');
      const pod = await client.get<Pod>(PODS, ns, m.metadata.name!);
      assert.equal(pod.spec.automountServiceAccountToken, false);
      assert.equal(pod.spec.runtimeClassName, 'gvisor', 'template pods default to gVisor too');
      assert.deepEqual(pod.spec.containers[0]!.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      assert.equal(await client.getOrNull(NETWORK_POLICIES, ns, `${m.metadata.name}-sandbox-network-policy`), null, 'the template policy covers it; no bare-Sandbox policy');
      assert.equal(pod.metadata.labels?.['agents.x-k8s.io/warm-pool-sandbox'], nameHash('pool-a'));
      assert.equal(pod.metadata.labels?.['agents.x-k8s.io/sandbox-template-ref-hash'], nameHash('tpl-a'));
      assert.equal(pod.metadata.labels?.app, 'agent');
    } finally { await stopKubelet(); }
  });

  it('scales through the scale subresource with kubectl scale (unready first, then newest)', async () => {
    const { client, ns } = f;
    await f.readyPool('pool-scale', 2);
    const r = spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, '-n', ns, 'scale', 'sandboxwarmpool/pool-scale', '--replicas=1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await f.readyMembers('pool-scale', 1);
    const scale = await client.request<{ spec: { replicas: number }; status: { replicas: number; selector: string } }>('GET',
      client.path(WARM_POOLS, ns, 'pool-scale', 'scale'));
    assert.equal(scale.spec.replicas, 1);
    assert.equal(scale.status.selector, `agents.x-k8s.io/warm-pool-sandbox=${nameHash('pool-scale')}`);
  });

  it('OnReplenish keeps stale members, Recreate replaces them; metadata-only edits are not stale', async () => {
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns);
    try {
      await f.template('tpl-roll');
      await f.pool('pool-keep', 'tpl-roll', 2);
      await f.pool('pool-recreate', 'tpl-roll', 2, 'Recreate');
      await f.readyMembers('pool-keep', 2);
      await f.readyMembers('pool-recreate', 2);
      const keepBefore = (await f.members('pool-keep')).map((m) => m.metadata.uid).sort();
      const recBefore = (await f.members('pool-recreate')).map((m) => m.metadata.uid).sort();

      // The template's watch event enqueues the template and, in the same dispatch, its pools: once
      // the template controller has run again after the edit (nothing else wakes it once the
      // queues are idle) and the queues are idle again, the pools have seen the edit too.
      await f.op.idle();
      const templatePasses = await f.reconciles('template');
      await client.patch(TEMPLATES, ns, 'tpl-roll', { metadata: { annotations: { note: 'metadata only' } } });
      await waitFor('the operator saw the metadata edit', async () => (await f.reconciles('template')) > templatePasses);
      await f.op.idle();
      assert.deepEqual((await f.members('pool-recreate')).map((m) => m.metadata.uid).sort(), recBefore);

      await client.patch(TEMPLATES, ns, 'tpl-roll', { spec: { podTemplate: { spec: basicPodSpec({ hostname: 'v2' }) } } });
      const keep = await waitFor('OnReplenish reports stale members', async () => {
        const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-keep');
        return p.status?.updatedReplicas === 0 ? p : null;
      }, 30_000);
      assert.equal(keep.status?.conditions?.find((c) => c.type === 'RolledOut')?.reason, 'StaleMembers');
      assert.deepEqual((await f.members('pool-keep')).map((m) => m.metadata.uid).sort(), keepBefore);
      const rec = await waitFor('Recreate rolls out', async () => {
        const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-recreate');
        const ms = await f.members('pool-recreate');
        return p.status?.updatedReplicas === 2 && p.status.readyReplicas === 2 && ms.every((m) => !recBefore.includes(m.metadata.uid)) ? p : null;
      }, 45_000);
      assert.equal(rec.status?.conditions?.find((c) => c.type === 'RolledOut')?.status, 'True');
      const m = (await f.members('pool-recreate'))[0]!;
      assert.equal(m.spec.podTemplate.spec.hostname, 'v2');
    } finally { await stopKubelet(); }
  });

  it('a golden-snapshot pool starts its golden Sandbox, suspends it once Ready, and creates no member until its snapshot is stored', async () => {
    // This operator runs without node agents, so the golden's checkpoint fails: the pool says so and
    // stays empty rather than filling with members that would start cold. A stored snapshot and the
    // members restoring it are test/k8s/golden-pool-real-node.test.ts.
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns);
    try {
      await f.template('tpl-golden', { podTemplate: { metadata: { annotations: { 'agentbox.dev/fork-from': 'elsewhere' } }, spec: basicPodSpec() } });
      await client.create<SandboxWarmPool>(WARM_POOLS, ns, {
        metadata: { name: 'pool-golden', annotations: { 'agentbox.dev/golden-snapshot': 'true' } },
        spec: { replicas: 2, sandboxTemplateRef: { name: 'tpl-golden' } },
      } as SandboxWarmPool);
      const condition = async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-golden')).status?.conditions?.find((c) => c.type === 'GoldenSnapshotReady');
      const failed = await waitFor('GoldenSnapshotReady False/GoldenSnapshotFailed', async () => {
        const c = await condition();
        return c?.reason === 'GoldenSnapshotFailed' ? c : null;
      }, 30_000);
      assert.equal(failed.status, 'False');
      assert.match(failed.message!, /golden Sandbox pool-golden-golden: checkpoint failed: this operator runs without node agents/);
      const golden = await client.get<Sandbox>(SANDBOXES, ns, 'pool-golden-golden');
      assert.equal(golden.spec.operatingMode, 'Suspended', 'suspended once Ready, to be checkpointed');
      assert.equal(golden.metadata.annotations?.['agentbox.dev/hibernation'], 'memory');
      assert.equal(golden.metadata.annotations?.['agentbox.dev/fork-from'], '', "the golden forks nothing, whatever its template's pod template says");
      assert.equal(golden.metadata.labels?.['agentbox.dev/golden-of'], nameHash('pool-golden'));
      assert.equal(golden.metadata.labels?.['agents.x-k8s.io/warm-pool-sandbox'], undefined, 'not a member: no claim takes it');
      assert.equal(golden.metadata.ownerReferences?.[0]?.name, 'pool-golden');
      assert.equal(await client.getOrNull<Pod>(PODS, ns, 'pool-golden-golden').then((p) => p?.metadata.deletionTimestamp === undefined && p !== null), true,
        'its pod keeps running until a checkpoint succeeds');
      assert.deepEqual(await f.members('pool-golden'), []);

      // Without the annotation the golden goes, the condition too, and the pool fills plainly.
      await client.patch(WARM_POOLS, ns, 'pool-golden', { metadata: { annotations: { 'agentbox.dev/golden-snapshot': null } } });
      await waitFor('the golden Sandbox deleted', async () => ((await client.getOrNull<Sandbox>(SANDBOXES, ns, 'pool-golden-golden')) ? null : true), 30_000);
      await waitFor('two members', async () => ((await f.members('pool-golden')).length === 2 ? true : null), 30_000);
      // The pass that creates the members writes the pool's status after them.
      await waitFor('the GoldenSnapshotReady condition gone', async () => ((await condition()) === undefined ? true : null), 30_000);
      for (const m of await f.members('pool-golden')) assert.equal(m.metadata.annotations?.['agentbox.dev/fork-from'], undefined);
    } finally { await stopKubelet(); }
  });
});

describe('warm pool readiness grace', { skip: skip ?? false }, () => {
  const g = extensionsFixture('grace', { readinessGraceMs: 1500 });

  it('replaces members that never become Ready, holds unschedulable ones with an event, adopts fresh orphans', async () => {
    const { client, ns } = g;
    await client.create(TEMPLATES, ns, { metadata: { name: 't' }, spec: { podTemplate: { spec: basicPodSpec() } } } as SandboxTemplate);
    await client.create(WARM_POOLS, ns, { metadata: { name: 'p' }, spec: { replicas: 1, sandboxTemplateRef: { name: 't' } } } as SandboxWarmPool);
    const list = async () => (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: `agents.x-k8s.io/warm-pool-sandbox=${nameHash('p')}` })).items.filter((s) => !s.metadata.deletionTimestamp);
    const first = await waitFor('member', async () => (await list())[0]);
    const second = await waitFor('replacement after the grace period', async () => {
      const m = (await list())[0];
      return m && m.metadata.uid !== first.metadata.uid ? m : null;
    }, 15_000);
    // The kubelet reports the new member's pod unschedulable: it is held, with one Warning.
    const pod = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, second.metadata.name!));
    await client.patch(PODS, ns, pod.metadata.name!, { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/0 nodes', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } }, 'merge', 'status');
    await waitFor('NotProgressing event', async () => (await client.list<KubeObject & { reason?: string }>(EVENTS, ns)).items.find((e) => e.reason === 'WarmPoolNotProgressing'), 15_000);
    assert.equal((await list())[0]?.metadata.uid, second.metadata.uid, 'unschedulable members are held, not churned');

    // An orphan with the pool's label (e.g. the pool was re-created) is adopted when fresh.
    await g.op.stop();
    await client.delete(WARM_POOLS, ns, 'p', { propagationPolicy: 'Orphan' });
    await waitFor('pool gone', async () => (await client.getOrNull(WARM_POOLS, ns, 'p')) === null);
    await waitFor('orphaned', async () => ((await list())[0]?.metadata.ownerReferences ?? []).length === 0 ? true : null);
    const pool = await client.create<SandboxWarmPool>(WARM_POOLS, ns, { metadata: { name: 'p' }, spec: { replicas: 1, sandboxTemplateRef: { name: 't' } } } as SandboxWarmPool);
    await g.startOperator(60_000);
    const adopted = await waitFor('orphan adopted', async () => {
      const m = (await list()).find((x) => x.metadata.uid === second.metadata.uid);
      return m?.metadata.ownerReferences?.[0]?.uid === pool.metadata.uid ? m : null;
    });
    assert.ok(adopted);
  });
});
