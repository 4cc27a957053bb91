// An OpenSandbox SDK create with `extensions.poolRef` through `agentbox up --kubernetes` (issue 12
// §4): the OpenSandbox lifecycle API over the Kubernetes backend claims from the warm pool of the
// Pool it names, and the Pool counts it allocated. Against the real kube-apiserver with the real
// operator (--opensandbox), router and server in-process; the pods are simulated
// (simulated-kubelet.ts), each running the real guest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from '../../src/api/k8s/opensandbox.ts';
import type { SandboxClaim } from '../../src/api/k8s/types.ts';
import type { RunningKubernetesServer } from '../../src/app/kubernetes-server.ts';
import type { KubeClient } from '../../src/k8s/client.ts';
import { CLAIMS, POOLS } from '../../src/k8s/resources.ts';
import { adminClient, basicPodSpec, ensureEnv } from './harness.ts';
import { startKubernetesStack, type KubernetesStack } from './kubernetes-stack.ts';
import { poolAt, type PoolCounts } from './pool-status.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping OpenSandbox poolRef on Kubernetes: ${skip}`);

describe('OpenSandbox poolRef creates on the Kubernetes backend', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let stack: KubernetesStack;
  let ns = '';
  let server: RunningKubernetesServer;

  const api = (path: string, init: { method?: string; json?: unknown; openSandbox?: boolean } = {}) =>
    fetch(`${server.url}${init.openSandbox ? '/opensandbox/v1' : '/v1'}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.openSandbox ? { 'OPEN-SANDBOX-API-KEY': server.adminKey! } : { Authorization: `Bearer ${server.adminKey!}` }),
        ...(init.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });
  const poolAtCounts = (want: PoolCounts) => poolAt(client, ns, 'os-pool', want, 60_000);

  before(async () => {
    client = await adminClient();
    stack = await startKubernetesStack(client, { namespace: 'ospr', operator: { openSandbox: true, readinessGraceMs: 600_000 }, simulatedPods: true });
    ({ ns, server } = stack);
  });
  after(async () => {
    await stack?.close();
    client?.close();
  });

  it('claims from the named Pool\'s warm pool, which counts it allocated; an unknown poolRef is 404', { timeout: 120_000 }, async () => {
    // The upstream shape: a sandbox container and a task-executor sidecar (dropped by the operator).
    const spec = basicPodSpec();
    spec.containers.push({ name: 'task-executor', image: 'opensandbox/task-executor:dev', ports: [{ containerPort: 5758, protocol: 'TCP' }] });
    await client.create(POOLS, ns, { metadata: { name: 'os-pool' }, spec: {
      template: { spec }, capacitySpec: { bufferMin: 1, bufferMax: 1, poolMin: 0, poolMax: 2 },
    } } as Pool);
    await poolAtCounts({ total: 1, allocated: 0, available: 1 });

    const res = await api('/sandboxes', { method: 'POST', openSandbox: true, json: { image: { uri: 'ignored:latest' }, timeout: 600, extensions: { poolRef: 'os-pool' } } });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = await res.json() as { id: string };
    const claim = await client.get<SandboxClaim>(CLAIMS, ns, id);
    assert.equal(claim.spec.warmPoolRef.name, 'os-pool');
    assert.match(claim.status?.sandbox?.name ?? '', /^os-pool-/, 'bound to a member the Pool kept warm');
    // One allocated, the buffer refilled to bufferMin, within poolMax.
    await poolAtCounts({ total: 2, allocated: 1, available: 1 });

    const exec = await (await api(`/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: 'echo pooled' } })).json() as { stdout: string };
    assert.equal(exec.stdout, 'pooled\n');
    const info = await (await api(`/sandboxes/${id}`, { openSandbox: true })).json() as { status: { state: string } };
    assert.equal(info.status.state, 'Running');

    const unknown = await api('/sandboxes', { method: 'POST', openSandbox: true, json: { image: { uri: 'x:1' }, extensions: { poolRef: 'no-such-pool' } } });
    assert.equal(unknown.status, 404, await unknown.clone().text());

    assert.equal((await api(`/sandboxes/${id}`, { method: 'DELETE', openSandbox: true })).status, 204);
    await poolAtCounts({ total: 1, allocated: 0, available: 1 });
  });
});
