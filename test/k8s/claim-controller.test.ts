// SandboxClaim reconciler against a real kube-apiserver: warm adoption, cold start, failure
// reasons, expiry, the no-double-adoption invariant under a burst, and restart recovery.
// The kubelet is played by the test (pod status patched), not the real node of test/k8s/real-node.test.ts:
// these cases inject what a real node cannot be made to do on demand (a pod that fails, never
// becomes Ready, or a burst of 20 members Ready within one tick) and check exact controller steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EVENTS, PODS, PVCS } from '../../src/k8s/client.ts';
import { ANNOTATION, LABEL } from '../../src/api/k8s/constants.ts';
import { CLAIMS, SANDBOXES } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox, SandboxClaim } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { autoKubelet, ensureEnv, markPodReady, waitFor } from './harness.ts';
import { extensionsFixture } from './extensions-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s claim tests: ${skip}`);

describe('claim controller', { skip: skip ?? false }, () => {
  const f = extensionsFixture('claim');

  it('adopts a warm sandbox for a claim, transferring ownership and relabelling the pod', async () => {
    const { client, ns } = f;
    await f.readyPool('pool-warm', 1);
    const stopKubelet = autoKubelet(client, ns);
    try {
      const [member] = await f.members('pool-warm');
      const c = await f.claim('claim-warm', 'pool-warm', { additionalPodMetadata: { labels: { 'sandbox.users.io/owner': 'me' } } }, { 'agents.x-k8s.io/created-by': 'python-client' });
      const done = await f.claimReason('claim-warm', 'DependenciesReady');
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
      await f.readyMembers('pool-warm', 1); // refilled
      await waitFor('SandboxAdopted event', async () => (await client.list<KubeObject & { reason?: string; regarding?: { name?: string } }>(EVENTS, ns)).items
        .find((e) => e.reason === 'SandboxAdopted' && e.regarding?.name === 'claim-warm'));
      const text = await f.op.metrics.registry.metrics();
      assert.match(text, /^agent_sandbox_claim_creation_total\{(?=[^}]*launch_type="warm")(?=[^}]*warmpool_name="pool-warm")[^}]*\} 1$/m);
      assert.match(text, /agentbox_warmpool_demand\{namespace="[^"]+",warmpool="pool-warm",state="bound"\} 1/);
    } finally { await stopKubelet(); }
  });

  it('re-syncs a bound claim\'s pod metadata when additionalPodMetadata changes', async () => {
    const { client, ns } = f;
    await f.readyPool('pool-resync', 1);
    const stopKubelet = autoKubelet(client, ns);
    try {
      await f.claim('claim-resync', 'pool-resync', { additionalPodMetadata: { labels: { 'sandbox.users.io/owner': 'me' } } });
      await f.claimReason('claim-resync', 'DependenciesReady');
    } finally { await stopKubelet(); }
    await client.patch(CLAIMS, ns, 'claim-resync', { spec: { additionalPodMetadata: { labels: { 'sandbox.users.io/owner': 'me', 'sandbox.users.io/stage': 'two' } } } });
    const c = await client.get<SandboxClaim>(CLAIMS, ns, 'claim-resync');
    await waitFor('pod relabelled after claim edit', async () => {
      const p = await client.get<Pod>(PODS, ns, c.status!.sandbox!.name!);
      return p.metadata.labels?.['sandbox.users.io/stage'] === 'two' ? p : null;
    });
  });

  it('reports the claim failure reasons verbatim', async () => {
    await f.readyPool('pool-strict', 1);
    await f.claim('c-nopool', 'missing-pool');
    await f.claimReason('c-nopool', 'WarmPoolNotFound');
    await f.pool('pool-notpl', 'missing-template', 1);
    await f.claim('c-notpl', 'pool-notpl');
    await f.claimReason('c-notpl', 'TemplateNotFound');
    await f.claim('c-meta', 'pool-strict', { additionalPodMetadata: { labels: { team: 'x' } } });
    await f.claimReason('c-meta', 'InvalidMetadata');
    await f.claim('c-env', 'pool-strict', { env: [{ name: 'A', value: '1' }] });
    await f.claimReason('c-env', 'EnvVarsInjectionRejected');
    await f.claim('c-vct', 'pool-strict', { volumeClaimTemplates: [{ metadata: { name: 'x' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] });
    await f.claimReason('c-vct', 'VolumeClaimTemplatesError');
  });

  it('cold-starts with env injected when the template allows it', async () => {
    const { client, ns } = f;
    await f.template('tpl-env', { envVarsInjectionPolicy: 'Allowed', volumeClaimTemplatesPolicy: 'Allowed' });
    await f.pool('pool-env', 'tpl-env', 0);
    await f.claim('c-cold', 'pool-env', {
      env: [{ name: 'GREETING', value: 'hi' }],
      volumeClaimTemplates: [{ metadata: { name: 'work' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    });
    const sb = await waitFor('cold sandbox', () => client.getOrNull<Sandbox>(SANDBOXES, ns, 'c-cold'));
    assert.equal(sb.metadata.labels?.['agents.x-k8s.io/launch-type'], 'cold');
    assert.deepEqual(sb.spec.podTemplate.spec.containers[0]!.env, [{ name: 'GREETING', value: 'hi' }]);
    assert.deepEqual(sb.spec.volumeClaimTemplates?.map((v) => v.metadata?.name), ['work']);
    await waitFor('pod', () => client.getOrNull(PODS, ns, 'c-cold'));
    await markPodReady(client, ns, 'c-cold');
    await f.claimReason('c-cold', 'DependenciesReady');
  });

  it('mounts the agentbox volumes a claim names (cold), and only PVCs labelled as volumes of its tenant', async () => {
    const { client, ns } = f;
    const pvc = (name: string, labels: Record<string, string>) => client.create(PVCS, ns, {
      metadata: { name, labels }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
    } as KubeObject);
    await pvc('vol-mine', { [LABEL.volume]: 'true', [LABEL.tenant]: 't1' });
    await pvc('vol-theirs', { [LABEL.volume]: 'true', [LABEL.tenant]: 't2' });
    await pvc('plain', {});
    // A warm member is there to take; a pod with new volumes cannot be a warm one.
    await f.readyPool('pool-vol', 1);
    const claim = (name: string, mounts: unknown) => client.create<SandboxClaim>(CLAIMS, ns, {
      metadata: { name, labels: { [LABEL.tenant]: 't1' }, annotations: { [ANNOTATION.volumeMounts]: JSON.stringify(mounts) } },
      spec: { warmPoolRef: { name: 'pool-vol' } },
    } as SandboxClaim);
    await claim('c-vol', [{ claimName: 'vol-mine', name: 'mine', path: '/data' }]);
    const sb = await waitFor('cold sandbox with the volume', () => client.getOrNull<Sandbox>(SANDBOXES, ns, 'c-vol'));
    assert.equal(sb.metadata.labels?.['agents.x-k8s.io/launch-type'], 'cold');
    const spec = sb.spec.podTemplate.spec;
    assert.deepEqual(spec.volumes?.filter((v) => v.persistentVolumeClaim), [{ name: 'agentbox-volume-0', persistentVolumeClaim: { claimName: 'vol-mine' } }]);
    assert.deepEqual(spec.containers[0]!.volumeMounts, [{ name: 'agentbox-volume-0', mountPath: '/data' }]);
    assert.equal((await f.members('pool-vol')).length, 1, 'the warm member was not taken');
    for (const [name, mounts] of [
      ['c-vol-theirs', [{ claimName: 'vol-theirs', path: '/data' }]],
      ['c-vol-plain', [{ claimName: 'plain', path: '/data' }]],
      ['c-vol-missing', [{ claimName: 'nope', path: '/data' }]],
      ['c-vol-path', [{ claimName: 'vol-mine', path: '/proc' }]],
      ['c-vol-shape', { claimName: 'vol-mine' }],
    ] as const) {
      await claim(name, mounts);
      const failed = await f.claimReason(name, 'VolumeMountFailed');
      assert.match(failed.status?.conditions?.find((x) => x.type === 'Ready')?.message ?? '', /volume/, name);
      assert.equal(await client.getOrNull(SANDBOXES, ns, name), null, `${name}: no Sandbox`);
    }
  });

  it('forwards SandboxExpired and SandboxMissing from the bound sandbox', async () => {
    const { client, ns } = f;
    await f.coldClaim('c-fwd');
    await client.patch(SANDBOXES, ns, 'c-fwd', { spec: { shutdownTime: new Date(Date.now() - 1000).toISOString() } });
    const c = await f.claimReason('c-fwd', 'SandboxExpired');
    assert.equal(c.status?.conditions?.find((x) => x.type === 'Ready')?.message, 'Underlying Sandbox resource has expired independently of the Claim.');
    await client.delete(SANDBOXES, ns, 'c-fwd');
    await f.claimReason('c-fwd', 'SandboxMissing');
  });

  it('applies claim expiry policies: Retain deletes the sandbox, Delete and DeleteForeground the claim', async () => {
    const { client, ns } = f;
    await f.template('tpl-exp');
    await f.pool('pool-exp', 'tpl-exp', 0);
    const soon = () => new Date(Date.now() + 1200).toISOString();
    await f.claim('c-retain', 'pool-exp', { lifecycle: { shutdownTime: soon(), shutdownPolicy: 'Retain' } });
    await waitFor('sandbox', () => client.getOrNull(SANDBOXES, ns, 'c-retain'));
    await f.claimReason('c-retain', 'ClaimExpired', 20_000);
    await waitFor('sandbox deleted', async () => (await client.getOrNull(SANDBOXES, ns, 'c-retain')) === null);
    await f.claim('c-del', 'pool-exp', { lifecycle: { shutdownTime: soon(), shutdownPolicy: 'Delete' } });
    await f.claim('c-fg', 'pool-exp', { lifecycle: { shutdownTime: soon(), shutdownPolicy: 'DeleteForeground' } });
    await waitFor('claims deleted', async () => (await client.getOrNull(CLAIMS, ns, 'c-del')) === null
      && (await client.getOrNull(CLAIMS, ns, 'c-fg')) === null, 20_000);
    await waitFor('sandboxes collected', async () => (await client.getOrNull(SANDBOXES, ns, 'c-fg')) === null
      && (await client.getOrNull(SANDBOXES, ns, 'c-del')) === null, 20_000);
  });

  it('hands 20 warm sandboxes to 50 concurrent claims without double adoption; the rest cold-start', async () => {
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns);
    await f.template('tpl-burst');
    await f.pool('pool-burst', 'tpl-burst', 20);
    await f.readyMembers('pool-burst', 20);
    await stopKubelet(); // refills now stay without IPs, so they are not warm candidates
    const warmNames = new Set((await f.members('pool-burst')).map((m) => m.metadata.name));
    const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => f.claim(`burst-${i}`, 'pool-burst')));
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
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns);
    try {
      await f.template('tpl-restart');
      await f.pool('pool-restart', 'tpl-restart', 2);
      await f.readyMembers('pool-restart', 2);
      await f.op.stop();
      // The crash point: the claim recorded its choice (step 1) but the Sandbox still belongs to
      // the pool (step 2 never ran).
      const [target] = await f.members('pool-restart');
      await client.create<SandboxClaim>(CLAIMS, ns, {
        metadata: { name: 'c-restart', annotations: { 'agents.x-k8s.io/sandbox-name': target!.metadata.name! } },
        spec: { warmPoolRef: { name: 'pool-restart' } },
      } as SandboxClaim);
      await f.startOperator();
      const c = await f.claimReason('c-restart', 'DependenciesReady');
      assert.equal(c.status?.sandbox?.name, target!.metadata.name, 'the committed choice is finished, not abandoned');
      const sb = await client.get<Sandbox>(SANDBOXES, ns, target!.metadata.name!);
      assert.equal(sb.metadata.ownerReferences?.[0]?.uid, c.metadata.uid);
    } finally { await stopKubelet(); }
  });
});
