// v1alpha1 ⇄ v1beta1 through the real API server and our conversion webhook (self-signed TLS,
// caBundle patched into the CRDs). The pure converter's round trips: src/k8s/conversion/convert.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../src/k8s/client.ts';
import { atVersion, CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { CRDS } from '../../src/k8s/client.ts';
import { freePort, startOperatorProcess, stopOperatorProcess, type OperatorProc } from './operator-proc.ts';
import { HUB_STATE_ANNOTATION } from '../../src/k8s/conversion/convert.ts';
import { ANNOTATION } from '../../src/api/k8s/constants.ts';
import type { KubeObject, Sandbox, SandboxClaim, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { adminClient, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG, waitFor } from './harness.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

type Any = KubeObject & { apiVersion: string; kind: string; spec: Record<string, unknown>; status?: Record<string, unknown> };
const skip = ensureEnv();
if (skip) console.log(`# skipping k8s conversion tests: ${skip}`);

describe('conversion webhook through the API server', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let op: OperatorProc;
  let webhookUrl = '';

  // The whole operator path: `agentbox operator` makes its CA and serving certificate, serves the
  // webhook, patches the CRDs' conversion (URL and caBundle), and records each claim's template on the claim.
  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'conv');
    const port = await freePort();
    const url = webhookUrl = `https://127.0.0.1:${port}/convert`;
    op = await startOperatorProcess(ns, ['--leader-elect=false', `--webhook-port=${port}`, `--webhook-url=${url}`]);
    await waitFor('CRDs point at the operator webhook with a CA bundle', async () => {
      const crd = await client.get<KubeObject & { spec: { conversion: { webhook: { clientConfig: { url?: string; caBundle?: string } } } } }>(CRDS, undefined, 'sandboxes.agents.x-k8s.io');
      const cc = crd.spec.conversion.webhook.clientConfig;
      return cc.url === url && cc.caBundle ? true : null;
    }, 30_000, 100);
  });
  after(async () => {
    if (op) await stopOperatorProcess(op);
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('leaves deploy/crds appliable: kubectl apply -k after the operator pointed the CRDs at its URL', () => {
    const r = spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, 'apply', '-k', join(root, 'deploy/crds')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sandboxes\.agents\.x-k8s\.io (configured|unchanged)/);
  });

  it('keeps the operator\'s conversion through a re-apply of the manifests', async () => {
    for (const name of ['sandboxes.agents.x-k8s.io', 'sandboxclaims.extensions.agents.x-k8s.io']) {
      const crd = await client.get<KubeObject & { spec: { conversion: { strategy: string; webhook?: { clientConfig: { url?: string; service?: unknown; caBundle?: string } } } } }>(CRDS, undefined, name);
      assert.equal(crd.spec.conversion.strategy, 'Webhook', name);
      assert.equal(crd.spec.conversion.webhook?.clientConfig.url, webhookUrl, name);
      assert.equal(crd.spec.conversion.webhook?.clientConfig.service, undefined, name);
      assert.ok(crd.spec.conversion.webhook?.clientConfig.caBundle, name);
    }
  });

  it('round-trips a v1alpha1 Sandbox losslessly (replicas ⇄ operatingMode, stash annotation)', async () => {
    const alpha = atVersion(SANDBOXES, 'v1alpha1');
    const spec = { replicas: 0, podTemplate: { spec: basicPodSpec() }, shutdownPolicy: 'Retain', podFailurePolicy: 'Ignore' };
    // The first request after patching the CRD may race the API server's webhook client setup.
    await waitFor('v1alpha1 create', () => client.create<Any>(alpha, ns, { metadata: { name: 's1' }, spec } as unknown as Any), 20_000, 200);
    const hub = await client.get<Sandbox>(SANDBOXES, ns, 's1');
    assert.equal(hub.spec.operatingMode, 'Suspended');
    assert.equal((hub.spec as unknown as Record<string, unknown>).replicas, undefined);
    assert.ok(hub.metadata.annotations?.['api.agents.x-k8s.io/v1alpha1-sandbox-state']);
    const back = await client.get<Any>(alpha, ns, 's1');
    assert.equal(back.apiVersion, 'agents.x-k8s.io/v1alpha1');
    assert.deepEqual(back.spec, spec);
    assert.equal(back.metadata.annotations, undefined, 'no stash leaks into v1alpha1');

    // A v1beta1 edit shows through v1alpha1.
    await client.patch(SANDBOXES, ns, 's1', { spec: { operatingMode: 'Running' } });
    assert.equal((await client.get<Any>(alpha, ns, 's1')).spec.replicas, 1);
    // The v1alpha1 scale subresource.
    const scale = await client.request<{ spec: { replicas: number } }>('GET', client.path(alpha, ns, 's1', 'scale'));
    assert.equal(scale.spec.replicas, 1);
    await client.patch(alpha, ns, 's1', { spec: { replicas: 0 } }, 'merge', 'scale');
    assert.equal((await client.get<Sandbox>(SANDBOXES, ns, 's1')).spec.operatingMode, 'Suspended');
  });

  it('keeps v1beta1-only claim fields when a v1alpha1 client writes the object back', async () => {
    await client.create(TEMPLATES, ns, { metadata: { name: 'tpl-x' }, spec: { podTemplate: { spec: basicPodSpec() } } } as KubeObject);
    await client.create<SandboxWarmPool>(WARM_POOLS, ns, { metadata: { name: 'pool-x' }, spec: { sandboxTemplateRef: { name: 'tpl-x' } } } as SandboxWarmPool);
    const vcts = [{ metadata: { name: 'work' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
    await client.create<SandboxClaim>(CLAIMS, ns, { metadata: { name: 'c1' }, spec: { warmPoolRef: { name: 'pool-x' }, volumeClaimTemplates: vcts } } as SandboxClaim);
    // The v1alpha1 view is a function of the object: once the operator has reconciled the claim
    // (it records the pool's template on it), that view names the template, whatever any cache holds.
    await waitFor('claim records its template', async () =>
      (await client.get<SandboxClaim>(CLAIMS, ns, 'c1')).metadata.annotations?.[ANNOTATION.claimTemplate] === 'tpl-x' ? true : null, 20_000);
    const alphaRt = atVersion(CLAIMS, 'v1alpha1');
    const alpha = await client.get<Any>(alphaRt, ns, 'c1');
    assert.deepEqual(alpha.spec.sandboxTemplateRef, { name: 'tpl-x' }, 'template recorded on the claim');
    assert.equal(alpha.spec.warmpool, 'pool-x');
    assert.ok(alpha.metadata.annotations?.[HUB_STATE_ANNOTATION]);
    // Read-modify-write through v1alpha1 (retried on conflicts: the operator writes the claim too).
    await waitFor('v1alpha1 update', async () => {
      const cur = await client.get<Any>(alphaRt, ns, 'c1');
      cur.metadata.labels = { ...(cur.metadata.labels ?? {}), edited: 'yes' };
      return client.update(alphaRt, cur);
    }, 20_000, 100);
    const hub = await client.get<SandboxClaim>(CLAIMS, ns, 'c1');
    assert.equal(hub.metadata.labels?.edited, 'yes');
    assert.deepEqual(hub.spec.warmPoolRef, { name: 'pool-x' });
    assert.deepEqual(hub.spec.volumeClaimTemplates, vcts);
    assert.equal(hub.metadata.annotations?.[HUB_STATE_ANNOTATION], undefined);
  });

  it('serves v1alpha1 warm pools with the scale subresource and required replicas', async () => {
    const alphaRt = atVersion(WARM_POOLS, 'v1alpha1');
    const p = await client.get<Any>(alphaRt, ns, 'pool-x');
    assert.equal(p.spec.replicas, 1, 'v1beta1 default shows through');
    await assert.rejects(client.create(alphaRt, ns, { metadata: { name: 'p-bad' }, spec: { sandboxTemplateRef: { name: 'tpl-x' } } } as unknown as Any), /replicas: Required/);
  });
});
