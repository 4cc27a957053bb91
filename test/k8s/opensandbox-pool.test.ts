// OpenSandbox's Pool and BatchSandbox on agentbox's operator, against a real kube-apiserver (the
// test plays the kubelet): an upstream-shaped Pool applies unchanged with kubectl, is mapped onto a
// SandboxTemplate and SandboxWarmPool of its name, is sized by OpenSandbox's capacity semantics,
// and BatchSandboxes allocate from it, publish status and endpoints, and expire.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { BatchSandbox, Pool } from '../../src/api/k8s/opensandbox.ts';
import type { SandboxClaim, SandboxTemplate, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { BATCH_SANDBOXES, CLAIMS, POOLS, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { autoKubelet, ensureEnv, KUBECONFIG, waitFor } from './harness.ts';
import { extensionsFixture } from './extensions-fixture.ts';
import { poolAt, type PoolCounts } from './pool-status.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping OpenSandbox pool tests: ${skip}`);
const MANIFEST = new URL('./fixtures/opensandbox-pool.yaml', import.meta.url).pathname;

describe('OpenSandbox Pool and BatchSandbox', { skip: skip ?? false }, () => {
  const f = extensionsFixture('ospool', { operator: { openSandbox: true, openSandboxGuestImage: 'agentbox/guest:test' } });
  const kubectl = (...args: string[]) => {
    const r = spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, '-n', f.ns, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const poolStatus = (want: PoolCounts) => poolAt(f.client, f.ns, 'agent-pool', want);
  const batch = (name: string, spec: Record<string, unknown>) =>
    f.client.create<BatchSandbox>(BATCH_SANDBOXES, f.ns, { metadata: { name }, spec } as BatchSandbox);

  it('applies the upstream manifest unchanged, maps it, keeps capacity and serves BatchSandboxes', async () => {
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns);
    try {
      kubectl('apply', '-f', MANIFEST);

      // The pod template agentbox builds: execd-installer, task-executor and their volume are
      // replaced by the injected guest, bootstrap.sh by the command it would have run.
      const t = await waitFor('template of agent-pool', () => client.getOrNull<SandboxTemplate>(TEMPLATES, ns, 'agent-pool'));
      const spec = t.spec.podTemplate.spec;
      assert.deepEqual(spec.containers.map((c) => c.name), ['sandbox-container']);
      assert.deepEqual(spec.containers[0]!.command, ['sleep', 'infinity']);
      assert.equal(spec.containers[0]!.volumeMounts, undefined);
      assert.equal(spec.initContainers, undefined);
      assert.equal(spec.volumes, undefined);
      assert.equal(spec.shareProcessNamespace, undefined);
      assert.equal(t.spec.podTemplate.metadata?.annotations?.['agentbox.dev/inject-guest'], 'agentbox/guest:test');
      assert.equal(t.spec.podTemplate.metadata?.labels?.pool, 'agent-pool');
      assert.equal(t.metadata.ownerReferences?.[0]?.kind, 'Pool');

      // Nothing allocated: the buffer starts mid-range (2) and the total is raised to poolMin (3).
      const p = await poolStatus({ total: 3, allocated: 0, available: 3 });
      assert.equal(p.status?.observedGeneration, p.metadata.generation);
      assert.match(p.status?.revision ?? '', /^[0-9a-f]{16}$/);
      assert.equal(p.status?.updated, 3);
      const table = kubectl('get', 'pool', 'agent-pool');
      assert.match(table, /NAME\s+TOTAL\s+ALLOCATED\s+AVAILABLE\s+UPDATED/);
      assert.match(table, /agent-pool\s+3\s+0\s+3\s+3/);

      // Two allocated leave one idle, inside [bufferMin, bufferMax]: kept, no refill (total 3).
      await batch('batch-a', { replicas: 2, poolRef: 'agent-pool' });
      const a = await waitFor('batch-a ready', async () => {
        const b = await client.get<BatchSandbox>(BATCH_SANDBOXES, ns, 'batch-a');
        return b.status?.ready === 2 ? b : null;
      }, 30_000);
      assert.deepEqual({ ...a.status, observedGeneration: undefined }, { observedGeneration: undefined, replicas: 2, allocated: 2, ready: 2, phase: 'Running' });
      const ips = JSON.parse(a.metadata.annotations?.['sandbox.opensandbox.io/endpoints'] ?? '[]') as string[];
      assert.equal(ips.length, 2);
      const claims = (await client.list<SandboxClaim>(CLAIMS, ns)).items.filter((c) => c.metadata.ownerReferences?.[0]?.name === 'batch-a');
      assert.deepEqual(claims.map((c) => c.metadata.name).sort(), ['batch-a-0', 'batch-a-1']);
      assert.ok(claims.every((c) => c.spec.warmPoolRef.name === 'agent-pool'));
      assert.deepEqual(claims.map((c) => c.status?.sandbox?.podIPs?.[0]).sort(), [...ips].sort());
      await poolStatus({ total: 3, allocated: 2, available: 1 });
      assert.match(kubectl('get', 'bsbx', 'batch-a'), /batch-a\s+2\s+2\s+2\s+2/);

      // A third takes the last idle member: the buffer (0) is below bufferMin, so it aims at 2
      // again, but poolMax (4) caps the total at one idle.
      await batch('batch-b', { replicas: 1, poolRef: 'agent-pool' });
      await poolStatus({ total: 4, allocated: 3, available: 1 });
      const wp = await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'agent-pool');
      assert.equal(wp.spec.replicas, 1);

      // expireTime in the past deletes the batch and its claims; the pool refills to poolMin.
      await client.patch(BATCH_SANDBOXES, ns, 'batch-a', { spec: { expireTime: new Date(Date.now() - 1000).toISOString() } });
      await waitFor('batch-a deleted', async () => (await client.getOrNull(BATCH_SANDBOXES, ns, 'batch-a')) === null ? true : null, 30_000);
      assert.equal(await client.getOrNull(CLAIMS, ns, 'batch-a-0'), null);
      await poolStatus({ total: 3, allocated: 1, available: 2 });
    } finally { await stopKubelet(); }
  });

  it('a BatchSandbox with a template creates its Sandboxes and expires at expireTime', async () => {
    const { client, ns } = f;
    const stopKubelet = autoKubelet(client, ns, (p) => p.metadata.name!.startsWith('batch-t-'));
    try {
      const expireTime = new Date(Date.now() + 20_000).toISOString().replace(/\.\d+Z$/, 'Z');
      await batch('batch-t', {
        replicas: 2, expireTime,
        template: { spec: { containers: [{ name: 'main', image: 'agentbox/test:1', command: ['sleep', 'infinity'] }] } },
      });
      const b = await waitFor('batch-t ready', async () => {
        const x = await client.get<BatchSandbox>(BATCH_SANDBOXES, ns, 'batch-t');
        return x.status?.ready === 2 ? x : null;
      }, 30_000);
      assert.equal(b.status?.allocated, 2);
      assert.equal(JSON.parse(b.metadata.annotations?.['sandbox.opensandbox.io/endpoints'] ?? '[]').length, 2);
      await waitFor('batch-t deleted at its expireTime', async () => (await client.getOrNull(BATCH_SANDBOXES, ns, 'batch-t')) === null ? true : null, 40_000);
    } finally { await stopKubelet(); }
  });

  it('refuses a BatchSandbox with both poolRef and template, and a Pool with bufferMin above bufferMax', async () => {
    await assert.rejects(batch('both', { poolRef: 'agent-pool', template: { spec: {} } }), /exactly one of poolRef and template/);
    await assert.rejects(f.client.create(POOLS, f.ns, { metadata: { name: 'bad' }, spec: { capacitySpec: { bufferMin: 3, bufferMax: 1, poolMin: 0, poolMax: 5 } } } as Pool),
      /bufferMin must not exceed bufferMax/);
  });
});
