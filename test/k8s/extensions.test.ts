// SandboxTemplate, SandboxWarmPool and SandboxClaim reconcilers against a real kube-apiserver.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { KubeClient, NETWORK_POLICIES, PODS } from '../../src/k8s/client.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import type { KubeObject, Sandbox, SandboxClaim, SandboxTemplate, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import type { NetworkPolicy } from '../../src/k8s/extensions/network-policy.ts';
import { EVENTS } from '../../src/k8s/client.ts';
import {
  adminClient, autoKubelet, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG, markPodReady, waitFor,
} from './harness.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s extension tests: ${skip}`);

describe('extensions: templates, warm pools, claims', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let op: RunningOperator | undefined;
  const start = async () => { op = await startOperator({ client, namespace: ns, extensions: true, readinessGraceMs: 10 * 60_000 }); };

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'ext');
    await start();
  });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const template = (name: string, spec: Record<string, unknown> = {}) =>
    client.create<SandboxTemplate>(TEMPLATES, ns, { metadata: { name }, spec: { podTemplate: { spec: basicPodSpec() }, ...spec } } as SandboxTemplate);
  const pool = (name: string, templateName: string, replicas: number, strategy?: string) =>
    client.create<SandboxWarmPool>(WARM_POOLS, ns, {
      metadata: { name },
      spec: { replicas, sandboxTemplateRef: { name: templateName }, ...(strategy ? { updateStrategy: { type: strategy } } : {}) },
    } as SandboxWarmPool);
  const claim = (name: string, poolName: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>) =>
    client.create<SandboxClaim>(CLAIMS, ns, { metadata: { name, ...(labels ? { labels } : {}) }, spec: { warmPoolRef: { name: poolName }, ...spec } } as SandboxClaim);
  const members = async (poolName: string) =>
    (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: `agents.x-k8s.io/warm-pool-sandbox=${nameHash(poolName)}` })).items
      .filter((s) => !s.metadata.deletionTimestamp);
  const claimReason = (name: string, reason: string, timeoutMs = 15_000) => waitFor(`claim ${name} Ready=${reason}`, async () => {
    const c = await client.getOrNull<SandboxClaim>(CLAIMS, ns, name);
    return c?.status?.conditions?.find((x) => x.type === 'Ready')?.reason === reason ? c : null;
  }, timeoutMs);
  const readyMembers = (poolName: string, n: number) => waitFor(`${n} ready members of ${poolName}`, async () => {
    const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, poolName);
    return p.status?.readyReplicas === n && p.status?.replicas === n ? p : null;
  }, 30_000);

  it('labels a template and manages its secure default NetworkPolicy', async () => {
    await template('tpl-net');
    const np = await waitFor('policy', () => client.getOrNull<NetworkPolicy>(NETWORK_POLICIES, ns, 'tpl-net-network-policy'));
    const hash = nameHash('tpl-net');
    assert.deepEqual(np.spec.podSelector, { matchLabels: { 'agents.x-k8s.io/sandbox-template-ref-hash': hash } });
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.spec.ingress, [{ from: [{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agent-sandbox-system' } },
      podSelector: { matchLabels: { app: 'sandbox-router' } },
    }] }]);
    assert.deepEqual(np.spec.egress, [{ to: [
      { ipBlock: { cidr: '0.0.0.0/0', except: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] } },
      { ipBlock: { cidr: '2000::/3', except: ['2001::/32', '2001:db8::/32', '2002::/16'] } },
    ] }]);
    const t = await client.get<SandboxTemplate>(TEMPLATES, ns, 'tpl-net');
    assert.equal(t.metadata.labels?.['agents.x-k8s.io/sandbox-template-ref-hash'], hash);

    await client.patch(TEMPLATES, ns, 'tpl-net', { spec: { networkPolicy: { ingress: [], egress: [] } } });
    await waitFor('custom rules (default deny)', async () => {
      const p = await client.get<NetworkPolicy>(NETWORK_POLICIES, ns, 'tpl-net-network-policy');
      return (p.spec.ingress ?? []).length === 0 && (p.spec.egress ?? []).length === 0 ? p : null;
    });
    await client.patch(TEMPLATES, ns, 'tpl-net', { spec: { networkPolicyManagement: 'Unmanaged' } });
    await waitFor('policy removed', async () => (await client.getOrNull(NETWORK_POLICIES, ns, 'tpl-net-network-policy')) === null);
  });

  it('fills a warm pool with Sandboxes built from the template, secure defaults applied', async () => {
    const stopKubelet = autoKubelet(client, ns);
    try {
      await template('tpl-a', { podTemplate: { metadata: { labels: { app: 'agent' } }, spec: basicPodSpec() } });
      await pool('pool-a', 'tpl-a', 3);
      const p = await readyMembers('pool-a', 3);
      assert.equal(p.status?.selector, `agents.x-k8s.io/warm-pool-sandbox=${nameHash('pool-a')}`);
      assert.equal(p.status?.updatedReplicas, 3);
      assert.equal(p.status?.observedGeneration, p.metadata.generation);
      assert.equal(p.status?.conditions?.find((c) => c.type === 'RolledOut')?.reason, 'UpToDate');
      const ms = await members('pool-a');
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
    const r = spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, '-n', ns, 'scale', 'sandboxwarmpool/pool-a', '--replicas=1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await readyMembers('pool-a', 1);
    const scale = await client.request<{ spec: { replicas: number }; status: { replicas: number; selector: string } }>('GET',
      client.path(WARM_POOLS, ns, 'pool-a', 'scale'));
    assert.equal(scale.spec.replicas, 1);
    assert.equal(scale.status.selector, `agents.x-k8s.io/warm-pool-sandbox=${nameHash('pool-a')}`);
  });

  it('adopts a warm sandbox for a claim, transferring ownership and relabelling the pod', async () => {
    const stopKubelet = autoKubelet(client, ns);
    try {
      const [member] = await members('pool-a');
      const c = await claim('claim-warm', 'pool-a', { additionalPodMetadata: { labels: { 'sandbox.users.io/owner': 'me' } } }, { 'agents.x-k8s.io/created-by': 'python-client' });
      const done = await claimReason('claim-warm', 'DependenciesReady');
      assert.equal(done.status?.sandbox?.name, member!.metadata.name);
      assert.equal(done.metadata.annotations?.['agents.x-k8s.io/sandbox-name'], member!.metadata.name);
      assert.ok(done.metadata.annotations?.['agents.x-k8s.io/controller-first-observed-at']);
      // Written right after the Ready status, so it may land a moment later.
      await waitFor('claim-first-ready-at', async () => (await client.get<SandboxClaim>(CLAIMS, ns, 'claim-warm')).metadata.annotations?.['agents.x-k8s.io/claim-first-ready-at']);
      assert.equal(done.status?.sandbox?.podIPs?.length, 1);
      const sb = await client.get<Sandbox>(SANDBOXES, ns, member!.metadata.name!);
      assert.deepEqual(sb.metadata.ownerReferences?.map((o) => [o.kind, o.uid, o.controller]), [['SandboxClaim', c.metadata.uid, true]]);
      assert.equal(sb.metadata.labels?.['agents.x-k8s.io/warm-pool-sandbox'], undefined);
      assert.equal(sb.metadata.labels?.['agents.x-k8s.io/sandbox-template-hash'], undefined);
      assert.equal(sb.metadata.labels?.['agents.x-k8s.io/launch-type'], 'warm');
      assert.equal(sb.metadata.labels?.['agents.x-k8s.io/claim-uid'], c.metadata.uid);
      assert.equal(sb.metadata.labels?.['agents.x-k8s.io/created-by'], 'python-client');
      assert.equal(sb.spec.podTemplate.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict'], undefined);
      const pod = await waitFor('pod relabelled', async () => {
        const p = await client.get<Pod>(PODS, ns, sb.metadata.name!);
        return p.metadata.labels?.['agents.x-k8s.io/claim-uid'] === c.metadata.uid ? p : null;
      });
      assert.equal(pod.metadata.labels?.['agents.x-k8s.io/warm-pool-sandbox'], undefined);
      assert.equal(pod.metadata.labels?.['sandbox.users.io/owner'], 'me');
      await readyMembers('pool-a', 1); // refilled
      await waitFor('SandboxAdopted event', async () => (await client.list<KubeObject & { reason?: string }>(EVENTS, ns)).items.find((e) => e.reason === 'SandboxAdopted'));
      const text = await op!.metrics.registry.metrics();
      assert.match(text, /agent_sandbox_claim_creation_total\{[^}]*launch_type="warm"[^}]*\} 1/);
      assert.match(text, /agentbox_warmpool_demand\{namespace="[^"]+",warmpool="pool-a",state="bound"\} 1/);
    } finally { await stopKubelet(); }
  });

  it('re-syncs a bound claim\'s pod metadata when additionalPodMetadata changes', async () => {
    await client.patch(CLAIMS, ns, 'claim-warm', { spec: { additionalPodMetadata: { labels: { 'sandbox.users.io/owner': 'me', 'sandbox.users.io/stage': 'two' } } } });
    const c = await client.get<SandboxClaim>(CLAIMS, ns, 'claim-warm');
    await waitFor('pod relabelled after claim edit', async () => {
      const p = await client.get<Pod>(PODS, ns, c.status!.sandbox!.name!);
      return p.metadata.labels?.['sandbox.users.io/stage'] === 'two' ? p : null;
    });
  });

  it('reports the claim failure reasons verbatim', async () => {
    await claim('c-nopool', 'missing-pool');
    await claimReason('c-nopool', 'WarmPoolNotFound');
    await pool('pool-notpl', 'missing-template', 1);
    await claim('c-notpl', 'pool-notpl');
    await claimReason('c-notpl', 'TemplateNotFound');
    await claim('c-meta', 'pool-a', { additionalPodMetadata: { labels: { team: 'x' } } });
    await claimReason('c-meta', 'InvalidMetadata');
    await claim('c-env', 'pool-a', { env: [{ name: 'A', value: '1' }] });
    await claimReason('c-env', 'EnvVarsInjectionRejected');
    await claim('c-vct', 'pool-a', { volumeClaimTemplates: [{ metadata: { name: 'x' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] });
    await claimReason('c-vct', 'VolumeClaimTemplatesError');
  });

  it('cold-starts with env injected when the template allows it', async () => {
    await template('tpl-env', { envVarsInjectionPolicy: 'Allowed', volumeClaimTemplatesPolicy: 'Allowed' });
    await pool('pool-env', 'tpl-env', 0);
    await claim('c-cold', 'pool-env', {
      env: [{ name: 'GREETING', value: 'hi' }],
      volumeClaimTemplates: [{ metadata: { name: 'work' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    const sb = await waitFor('cold sandbox', () => client.getOrNull<Sandbox>(SANDBOXES, ns, 'c-cold'));
    assert.equal(sb.metadata.labels?.['agents.x-k8s.io/launch-type'], 'cold');
    assert.deepEqual(sb.spec.podTemplate.spec.containers[0]!.env, [{ name: 'GREETING', value: 'hi' }]);
    assert.deepEqual(sb.spec.volumeClaimTemplates?.map((v) => v.metadata?.name), ['work']);
    await waitFor('pod', () => client.getOrNull(PODS, ns, 'c-cold'));
    await markPodReady(client, ns, 'c-cold');
    await claimReason('c-cold', 'DependenciesReady');
  });

  it('forwards SandboxExpired and SandboxMissing from the bound sandbox', async () => {
    await client.patch(SANDBOXES, ns, 'c-cold', { spec: { shutdownTime: new Date(Date.now() - 1000).toISOString() } });
    const c = await claimReason('c-cold', 'SandboxExpired');
    assert.equal(c.status?.conditions?.find((x) => x.type === 'Ready')?.message, 'Underlying Sandbox resource has expired independently of the Claim.');
    await client.delete(SANDBOXES, ns, 'c-cold');
    await claimReason('c-cold', 'SandboxMissing');
  });

  it('applies claim expiry policies: Retain deletes the sandbox, Delete and DeleteForeground the claim', async () => {
    const soon = () => new Date(Date.now() + 1200).toISOString();
    await claim('c-retain', 'pool-env', { lifecycle: { shutdownTime: soon(), shutdownPolicy: 'Retain' } });
    await waitFor('sandbox', () => client.getOrNull(SANDBOXES, ns, 'c-retain'));
    await claimReason('c-retain', 'ClaimExpired', 20_000);
    await waitFor('sandbox deleted', async () => (await client.getOrNull(SANDBOXES, ns, 'c-retain')) === null);
    await claim('c-del', 'pool-env', { lifecycle: { shutdownTime: soon(), shutdownPolicy: 'Delete' } });
    await claim('c-fg', 'pool-env', { lifecycle: { shutdownTime: soon(), shutdownPolicy: 'DeleteForeground' } });
    await waitFor('claims deleted', async () => (await client.getOrNull(CLAIMS, ns, 'c-del')) === null
      && (await client.getOrNull(CLAIMS, ns, 'c-fg')) === null, 20_000);
    await waitFor('sandboxes collected', async () => (await client.getOrNull(SANDBOXES, ns, 'c-fg')) === null
      && (await client.getOrNull(SANDBOXES, ns, 'c-del')) === null, 20_000);
  });

  it('OnReplenish keeps stale members, Recreate replaces them; metadata-only edits are not stale', async () => {
    const stopKubelet = autoKubelet(client, ns);
    try {
      await template('tpl-roll');
      await pool('pool-keep', 'tpl-roll', 2);
      await pool('pool-recreate', 'tpl-roll', 2, 'Recreate');
      await readyMembers('pool-keep', 2);
      await readyMembers('pool-recreate', 2);
      const keepBefore = (await members('pool-keep')).map((m) => m.metadata.uid).sort();
      const recBefore = (await members('pool-recreate')).map((m) => m.metadata.uid).sort();

      await client.patch(TEMPLATES, ns, 'tpl-roll', { metadata: { annotations: { note: 'metadata only' } } });
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual((await members('pool-recreate')).map((m) => m.metadata.uid).sort(), recBefore);

      await client.patch(TEMPLATES, ns, 'tpl-roll', { spec: { podTemplate: { spec: basicPodSpec({ hostname: 'v2' }) } } });
      const keep = await waitFor('OnReplenish reports stale members', async () => {
        const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-keep');
        return p.status?.updatedReplicas === 0 ? p : null;
      }, 30_000);
      assert.equal(keep.status?.conditions?.find((c) => c.type === 'RolledOut')?.reason, 'StaleMembers');
      assert.deepEqual((await members('pool-keep')).map((m) => m.metadata.uid).sort(), keepBefore);
      const rec = await waitFor('Recreate rolls out', async () => {
        const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-recreate');
        const ms = await members('pool-recreate');
        return p.status?.updatedReplicas === 2 && p.status.readyReplicas === 2 && ms.every((m) => !recBefore.includes(m.metadata.uid)) ? p : null;
      }, 45_000);
      assert.equal(rec.status?.conditions?.find((c) => c.type === 'RolledOut')?.status, 'True');
      const m = (await members('pool-recreate'))[0]!;
      assert.equal(m.spec.podTemplate.spec.hostname, 'v2');
    } finally { await stopKubelet(); }
  });

  it('hands 20 warm sandboxes to 50 concurrent claims without double adoption; the rest cold-start', async () => {
    const stopKubelet = autoKubelet(client, ns);
    await template('tpl-burst');
    await pool('pool-burst', 'tpl-burst', 20);
    await readyMembers('pool-burst', 20);
    await stopKubelet(); // refills now stay without IPs, so they are not warm candidates
    const warmNames = new Set((await members('pool-burst')).map((m) => m.metadata.name));
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => claim(`burst-${i}`, 'pool-burst')));
    const bound = await waitFor('all 50 claims bound', async () => {
      const list = (await client.list<SandboxClaim>(CLAIMS, ns)).items.filter((c) => c.metadata.name!.startsWith('burst-'));
      return list.length === 50 && list.every((c) => c.status?.sandbox?.name) ? list : null;
    }, 60_000);
    const names = bound.map((c) => c.status!.sandbox!.name!);
    assert.equal(new Set(names).size, 50, 'no sandbox is bound to two claims');
    const warm = names.filter((n) => warmNames.has(n));
    assert.equal(warm.length, 20, 'every warm sandbox was used');
    const sandboxes = (await client.list<Sandbox>(SANDBOXES, ns)).items;
    for (const c of claims) {
      const owned = sandboxes.filter((s) => s.metadata.ownerReferences?.some((o) => o.uid === c.metadata.uid && o.controller));
      assert.equal(owned.length, 1, `claim ${c.metadata.name} controls exactly one sandbox`);
      assert.equal(owned[0]!.metadata.labels?.['agents.x-k8s.io/claim-uid'], c.metadata.uid);
    }
    const cold = sandboxes.filter((s) => s.metadata.name!.startsWith('burst-'));
    assert.equal(cold.length, 30);
    assert.ok(cold.every((s) => s.metadata.labels?.['agents.x-k8s.io/launch-type'] === 'cold'));
  });

  it('finishes an adoption interrupted by an operator restart', async () => {
    const stopKubelet = autoKubelet(client, ns);
    try {
      await template('tpl-restart');
      await pool('pool-restart', 'tpl-restart', 2);
      await readyMembers('pool-restart', 2);
      await op!.stop();
      // The crash point: the claim recorded its choice (step 1) but the Sandbox still belongs to
      // the pool (step 2 never ran).
      const [target] = await members('pool-restart');
      await client.create<SandboxClaim>(CLAIMS, ns, {
        metadata: { name: 'c-restart', annotations: { 'agents.x-k8s.io/sandbox-name': target!.metadata.name! } },
        spec: { warmPoolRef: { name: 'pool-restart' } },
      } as SandboxClaim);
      await start();
      const c = await claimReason('c-restart', 'DependenciesReady');
      assert.equal(c.status?.sandbox?.name, target!.metadata.name, 'the committed choice is finished, not abandoned');
      const sb = await client.get<Sandbox>(SANDBOXES, ns, target!.metadata.name!);
      assert.equal(sb.metadata.ownerReferences?.[0]?.uid, c.metadata.uid);
    } finally { await stopKubelet(); }
  });
});

describe('warm pool readiness grace', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let op: RunningOperator | undefined;

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'grace');
    op = await startOperator({ client, namespace: ns, extensions: true, readinessGraceMs: 1500 });
  });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('replaces members that never become Ready, holds unschedulable ones with an event, adopts fresh orphans', async () => {
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
    await op!.stop();
    await client.delete(WARM_POOLS, ns, 'p', { propagationPolicy: 'Orphan' });
    await waitFor('pool gone', async () => (await client.getOrNull(WARM_POOLS, ns, 'p')) === null);
    await waitFor('orphaned', async () => ((await list())[0]?.metadata.ownerReferences ?? []).length === 0 ? true : null);
    const pool = await client.create<SandboxWarmPool>(WARM_POOLS, ns, { metadata: { name: 'p' }, spec: { replicas: 1, sandboxTemplateRef: { name: 't' } } } as SandboxWarmPool);
    op = await startOperator({ client, namespace: ns, extensions: true, readinessGraceMs: 60_000 });
    const adopted = await waitFor('orphan adopted', async () => {
      const m = (await list()).find((x) => x.metadata.uid === second.metadata.uid);
      return m?.metadata.ownerReferences?.[0]?.uid === pool.metadata.uid ? m : null;
    });
    assert.ok(adopted);
  });
});
