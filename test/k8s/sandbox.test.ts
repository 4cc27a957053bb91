// Sandbox reconciler against a real kube-apiserver: pods/services/PVCs, every Sandbox condition
// reason, suspend/resume, pod deletion and failure recovery, expiry policies, adoption.
// The kubelet is played by the test (pod status patched), not the real node of test/k8s/real-node.test.ts:
// every condition reason needs a pod in a chosen phase (Failed, Pending, Succeeded) at a chosen
// moment, which failure injection gives and a real node does not; real pods are covered there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EVENTS, KubeClient, PODS, PVCS, SERVICES } from '../../src/k8s/client.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import type { Service } from '../../src/k8s/sandbox/service.ts';
import { adminClient, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, markPodPhase, markPodReady, waitFor } from './harness.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s sandbox tests: ${skip}`);

describe('Sandbox reconciler', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let op: RunningOperator;

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'sbx');
    op = await startOperator({ client, namespace: ns });
  });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const create = (name: string, spec: Record<string, unknown> = {}) =>
    client.create<Sandbox>(SANDBOXES, ns, { metadata: { name }, spec: { podTemplate: { spec: basicPodSpec() }, ...spec } } as Sandbox);
  const getSb = (name: string) => client.get<Sandbox>(SANDBOXES, ns, name);
  const cond = (sb: Sandbox, type: string) => sb.status?.conditions?.find((c) => c.type === type);
  const waitReason = (name: string, type: string, reason: string, timeoutMs = 15_000) =>
    waitFor(`${name} ${type}=${reason}`, async () => {
      const sb = await getSb(name);
      return cond(sb, type)?.reason === reason ? sb : null;
    }, timeoutMs);

  it('creates a pod, a headless service and PVCs named and labelled as the reference says', async () => {
    await create('alpha', {
      service: true,
      podTemplate: { metadata: { labels: { team: 'a', 'agents.x-k8s.io/sandbox-name-hash': 'spoofed' } }, spec: basicPodSpec({ volumes: [{ name: 'data', emptyDir: {} }] }) },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    const pod = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'alpha'));
    const hash = nameHash('alpha');
    assert.equal(pod.metadata.labels?.['agents.x-k8s.io/sandbox-name-hash'], hash, 'reserved label cannot be spoofed');
    assert.equal(pod.metadata.labels?.team, 'a');
    assert.equal(pod.metadata.annotations?.['agents.x-k8s.io/propagated-labels'], 'team');
    assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'Sandbox');
    assert.deepEqual(pod.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-alpha' } }]);
    const pvc = await waitFor('pvc', () => client.getOrNull(PVCS, ns, 'data-alpha'));
    assert.equal(pvc.metadata.labels?.['agents.x-k8s.io/sandbox-name-hash'], hash);
    const svc = await waitFor('service', () => client.getOrNull<Service>(SERVICES, ns, 'alpha'));
    assert.equal(svc.spec.clusterIP, 'None');
    assert.deepEqual(svc.spec.selector, { 'agents.x-k8s.io/sandbox-name-hash': hash });
    assert.deepEqual(svc.spec.ports?.map((p) => [p.name, p.port]), [['p-8888-tcp', 8888]]);

    let sb = await waitReason('alpha', 'Ready', 'DependenciesNotReady');
    assert.match(cond(sb, 'Ready')!.message, /Pod exists with phase: Pending/);
    assert.equal(cond(sb, 'Suspended')?.reason, 'NotSuspended');
    assert.equal(sb.metadata.annotations?.['agents.x-k8s.io/pod-name'], 'alpha');
    await markPodReady(client, ns, 'alpha', '127.1.0.10');
    sb = await waitReason('alpha', 'Ready', 'DependenciesReady');
    assert.equal(cond(sb, 'Ready')!.status, 'True');
    assert.equal(cond(sb, 'Ready')!.observedGeneration, sb.metadata.generation);
    assert.deepEqual(sb.status?.podIPs, ['127.1.0.10']);
    assert.equal(sb.status?.serviceFQDN, `alpha.${ns}.svc.cluster.local`);
    assert.equal(sb.status?.selector, `agents.x-k8s.io/sandbox-name-hash=${hash}`);
    assert.equal(cond(sb, 'PodScheduled')?.status, 'True');
  });

  it('volumeClaimTemplates are immutable (CEL rule)', async () => {
    const sb = await getSb('alpha');
    await assert.rejects(client.patch(SANDBOXES, ns, 'alpha', { spec: { volumeClaimTemplates: [] }, metadata: { resourceVersion: sb.metadata.resourceVersion } }),
      /volumeClaimTemplates is immutable/);
  });

  it('suspends (pod deleted, service and PVC kept) and resumes with a new pod', async () => {
    await client.patch(SANDBOXES, ns, 'alpha', { spec: { operatingMode: 'Suspended' } });
    let sb = await waitReason('alpha', 'Suspended', 'PodTerminated');
    assert.equal(cond(sb, 'Suspended')!.status, 'True');
    assert.equal(cond(sb, 'Ready')!.reason, 'SandboxSuspended');
    assert.equal(sb.status?.podIPs, undefined);
    assert.equal(cond(sb, 'PodScheduled'), undefined);
    assert.equal(sb.metadata.annotations?.['agents.x-k8s.io/pod-name'], undefined);
    assert.equal(await client.getOrNull(PODS, ns, 'alpha'), null);
    assert.ok(await client.getOrNull(SERVICES, ns, 'alpha'));
    assert.ok(await client.getOrNull(PVCS, ns, 'data-alpha'));

    await client.patch(SANDBOXES, ns, 'alpha', { spec: { operatingMode: 'Running' } });
    await waitFor('new pod', () => client.getOrNull<Pod>(PODS, ns, 'alpha'));
    sb = await waitReason('alpha', 'Suspended', 'NotSuspended');
    await markPodReady(client, ns, 'alpha', '127.1.0.11');
    sb = await waitReason('alpha', 'Ready', 'DependenciesReady');
    assert.deepEqual(sb.status?.podIPs, ['127.1.0.11']);
  });

  it('recreates a deleted pod with the same name and PVCs', async () => {
    const before = await client.get<Pod>(PODS, ns, 'alpha');
    await client.delete(PODS, ns, 'alpha', { gracePeriodSeconds: 0 });
    const pod = await waitFor('recreated pod', async () => {
      const p = await client.getOrNull<Pod>(PODS, ns, 'alpha');
      return p && p.metadata.uid !== before.metadata.uid ? p : null;
    });
    assert.deepEqual(pod.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-alpha' } }]);
    await waitReason('alpha', 'Ready', 'DependenciesNotReady');
  });

  it('reports PodSucceeded / PodFailed with Finished and leaves the pod by default', async () => {
    await create('beta');
    await waitFor('pod', () => client.getOrNull(PODS, ns, 'beta'));
    await markPodPhase(client, ns, 'beta', 'Succeeded');
    let sb = await waitReason('beta', 'Ready', 'PodSucceeded');
    assert.equal(cond(sb, 'Finished')?.reason, 'PodSucceeded');
    await markPodPhase(client, ns, 'beta', 'Failed');
    sb = await waitReason('beta', 'Ready', 'PodFailed');
    assert.equal(cond(sb, 'Finished')?.status, 'True');
    assert.equal(cond(sb, 'Finished')?.reason, 'PodFailed');
    const pod = await client.get<Pod>(PODS, ns, 'beta');
    assert.equal(pod.status?.phase, 'Failed', 'Ignore policy keeps the failed pod');
  });

  it('podFailurePolicy Recreate replaces a failed pod and keeps its PVCs', async () => {
    await create('gamma', {
      podFailurePolicy: 'Recreate',
      volumeClaimTemplates: [{ metadata: { name: 'home' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    const first = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'gamma'));
    const pvc = await waitFor('pvc', () => client.getOrNull(PVCS, ns, 'home-gamma'));
    await markPodPhase(client, ns, 'gamma', 'Failed');
    const second = await waitFor('replacement pod', async () => {
      const p = await client.getOrNull<Pod>(PODS, ns, 'gamma');
      return p && p.metadata.uid !== first.metadata.uid ? p : null;
    });
    assert.notEqual(second.status?.phase, 'Failed');
    assert.equal((await client.get(PVCS, ns, 'home-gamma')).metadata.uid, pvc.metadata.uid);
    const sb = await waitReason('gamma', 'Ready', 'DependenciesNotReady');
    assert.equal(cond(sb, 'Finished'), undefined);
  });

  it('expires with shutdownPolicy Retain: pod and service go, PVCs and the Sandbox stay', async () => {
    await create('delta', {
      service: true,
      volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      shutdownTime: new Date(Date.now() + 1500).toISOString(),
    });
    await waitFor('pod', () => client.getOrNull(PODS, ns, 'delta'));
    await markPodReady(client, ns, 'delta');
    const sb = await waitReason('delta', 'Ready', 'SandboxExpired', 20_000);
    assert.equal(cond(sb, 'Ready')!.message, 'Sandbox has expired');
    await waitFor('pod gone', async () => (await client.getOrNull(PODS, ns, 'delta')) === null);
    await waitFor('service gone', async () => (await client.getOrNull(SERVICES, ns, 'delta')) === null);
    assert.ok(await client.getOrNull(PVCS, ns, 'd-delta'), 'PVCs survive expiry');
    const after = await waitFor('status cleared', async () => { const s = await getSb('delta'); return s.status?.podIPs ? null : s; });
    assert.equal(cond(after, 'Ready')!.reason, 'SandboxExpired');
    assert.equal(cond(after, 'PodScheduled'), undefined);
  });

  it('expires with shutdownPolicy Delete: the Sandbox is deleted', async () => {
    await create('epsilon', { shutdownTime: new Date(Date.now() + 1000).toISOString(), shutdownPolicy: 'Delete' });
    await waitFor('sandbox deleted', async () => (await client.getOrNull(SANDBOXES, ns, 'epsilon')) === null, 20_000);
  });

  it('reports MultiplePods when two pods are controlled by one Sandbox', async () => {
    const sb = await create('zeta');
    const pod = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'zeta'));
    await client.create(PODS, ns, { metadata: { name: 'zeta-extra', labels: pod.metadata.labels, ownerReferences: pod.metadata.ownerReferences }, spec: pod.spec } as Pod);
    await waitReason('zeta', 'Ready', 'MultiplePods');
    await waitFor('Warning event', async () => (await client.list<KubeObject & { reason?: string; type?: string }>(EVENTS, ns)).items
      .find((e) => e.reason === 'MultiplePods' && e.type === 'Warning'));
    assert.ok(sb.metadata.uid);
    await client.delete(PODS, ns, 'zeta-extra', { gracePeriodSeconds: 0 });
    await waitReason('zeta', 'Ready', 'DependenciesNotReady');
  });

  it('adopts an unowned pod marked adoptable, and refuses one owned by someone else (ReconcilerError)', async () => {
    await client.create(PODS, ns, { metadata: { name: 'eta', labels: { 'agents.x-k8s.io/adoptable': 'true' } }, spec: basicPodSpec() } as Pod);
    const sb = await create('eta');
    const pod = await waitFor('adopted pod', async () => {
      const p = await client.get<Pod>(PODS, ns, 'eta');
      return p.metadata.ownerReferences?.some((r) => r.uid === sb.metadata.uid && r.controller) ? p : null;
    });
    assert.equal(pod.metadata.labels?.['agents.x-k8s.io/sandbox-name-hash'], nameHash('eta'));

    // A live owner, or the garbage collector would remove the pod.
    const cm = await client.create<KubeObject>({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' }, ns, { metadata: { name: 'owner' } });
    await client.create(PODS, ns, {
      metadata: {
        name: 'theta', labels: { 'agents.x-k8s.io/sandbox-name-hash': nameHash('theta') },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: cm.metadata.uid!, controller: true }],
      },
      spec: basicPodSpec(),
    } as Pod);
    const bad = await create('theta');
    const s = await waitReason('theta', 'Ready', 'ReconcilerError');
    assert.match(cond(s, 'Ready')!.message, /^Error seen: /);
    assert.ok(bad);
  });

  it('reports PodNotOwned when suspending next to a foreign pod of the same name', async () => {
    await client.patch(SANDBOXES, ns, 'theta', { spec: { operatingMode: 'Suspended' } });
    const sb = await waitReason('theta', 'Suspended', 'PodNotOwned');
    assert.equal(cond(sb, 'Suspended')!.status, 'False');
    assert.ok(await client.getOrNull(PODS, ns, 'theta'), 'a foreign pod is never deleted');
  });

  it('reports PodTerminating while the owned pod is going away', async () => {
    await create('iota');
    const pod = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'iota'));
    // A finalizer holds the pod in Terminating, as a kubelet still stopping containers would.
    await client.patch(PODS, ns, 'iota', { metadata: { finalizers: ['agentbox.dev/test-hold'] } });
    await client.patch(SANDBOXES, ns, 'iota', { spec: { operatingMode: 'Suspended' } });
    const sb = await waitReason('iota', 'Suspended', 'PodTerminating');
    assert.equal(cond(sb, 'Ready')!.message, 'Sandbox is suspending');
    await client.patch(PODS, ns, 'iota', { metadata: { finalizers: null } });
    await waitReason('iota', 'Suspended', 'PodTerminated');
    assert.ok(pod);
  });

  it('exposes the controller metrics', async () => {
    const text = await op.metrics.registry.metrics();
    assert.match(text, /agent_sandbox_creation_latency_ms_bucket/);
    assert.match(text, /agent_sandboxes\{/);
  });
});
