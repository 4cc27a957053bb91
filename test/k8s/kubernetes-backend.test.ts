// `agentbox up --kubernetes` (issue 11 §2): the server's /v1 and /e2b over the Kubernetes backend
// (src/cluster) against the real kube-apiserver, with the real operator and sandbox router
// in-process. THE PODS ARE SIMULATED: this control plane has no kubelet yet, so when a sandbox
// pod appears the test plays the kubelet: it runs the real guest daemon as a local process with
// the config from the pod's guest Secret, on a loopback address of its own, in a private mount
// namespace shaped like a base image's pod (simulated-kubelet.ts), and marks the pod Ready with
// that address. Everything else is real: claim → pool → Sandbox → pod by the operator,
// exec/files/PTY server → router (scoped tokens) → guest. Simulated pods start in a second, so
// this file covers every path of the backend; kubernetes-backend-real-node.test.ts runs the E2B
// scenarios on real gVisor pods of the test node.
// test-file-timeout: 20 min
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox, SandboxClaim, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { startKubernetesServer, type RunningKubernetesServer } from '../../src/app/kubernetes-server.ts';
import { PODS, SECRETS, type KubeClient } from '../../src/k8s/client.ts';
import type { Secret } from '../../src/k8s/extensions/guest-secret.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import type { AuthMode } from '../../src/k8s/router/auth.ts';
import type { RunningRouter } from '../../src/k8s/router/server.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { sdkManifest, type SdkManifest } from '../e2b/fixture.ts';
import { assertE2bScenariosPass } from './e2b-on-kubernetes.ts';
import { exited, spawnAndReadFirstLine } from '../support/child-process.ts';
import { adminClient, basicPodSpec, ensureEnv, KUBECONFIG, waitFor } from './harness.ts';
import { startKubernetesStack, type KubernetesStack } from './kubernetes-stack.ts';

const skip = ensureEnv();
const ROOT = new URL('../..', import.meta.url).pathname;

describe('agentbox on Kubernetes: /v1 and /e2b over SandboxClaims', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let stack: KubernetesStack;
  let ns = '';
  let router: RunningRouter;
  let auth: AuthMode;
  let server: RunningKubernetesServer;
  let replica: RunningKubernetesServer;

  const api = (s: RunningKubernetesServer, path: string, init: { method?: string; json?: unknown; key?: string; body?: string } = {}) =>
    fetch(`${s.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { Authorization: `Bearer ${init.key ?? server.adminKey}`, ...(init.json !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : init.body !== undefined ? { body: init.body } : {}),
    });

  before(async () => {
    client = await adminClient();
    const guest = { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' };
    stack = await startKubernetesStack(client, {
      namespace: 'kb', operator: { readinessGraceMs: 600_000 }, simulatedPods: true,
      templates: [
        { name: 'base', podTemplate: { metadata: { annotations: { ...guest, 'agentbox.dev/default-user': 'user' } }, spec: basicPodSpec() } },
        { name: 'plain', podTemplate: { spec: basicPodSpec() } },
      ],
    });
    ({ ns, router, server } = stack);
    auth = stack.routerAccess.auth;
    replica = await startKubernetesServer({ client, namespace: ns, router: stack.routerAccess, host: '127.0.0.1', port: 0, log: () => {} });
  });
  after(async () => {
    await replica?.close();
    await stack?.close();
    client?.close();
  });

  let id = '';

  it('creates a sandbox as a SandboxClaim of its tenant, from a pool of the template', async () => {
    const res = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'base', metadata: { team: 'a' }, env: { FROM_CREATE: 'yes' }, timeoutSeconds: 600 } });
    assert.equal(res.status, 201, await res.clone().text());
    const sb = await res.json() as { id: string; state: string; metadata: Record<string, string>; expiresAt: string };
    id = sb.id;
    assert.equal(sb.state, 'running');
    assert.deepEqual(sb.metadata, { team: 'a' });
    const claim = await client.get<SandboxClaim>(CLAIMS, ns, id);
    assert.equal(claim.metadata.labels?.['agentbox.dev/tenant'], 'default');
    assert.equal(claim.spec.warmPoolRef.name, 'agentbox-base', 'a template without a pool gets agentbox\'s pool of 0');
    assert.equal(claim.spec.lifecycle?.shutdownPolicy, 'Delete');
    assert.equal(Date.parse(claim.spec.lifecycle!.shutdownTime!), Date.parse(sb.expiresAt));
  });

  it('claims from a warm pool of the template when there is one: a pool member with its own guest', { timeout: 90_000 }, async () => {
    await client.create(TEMPLATES, ns, { metadata: { name: 'pooled' }, spec: { podTemplate: {
      metadata: { annotations: { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' } }, spec: basicPodSpec(),
    } } });
    await client.create(WARM_POOLS, ns, { metadata: { name: 'pooled-pool' }, spec: { replicas: 1, sandboxTemplateRef: { name: 'pooled' } } });
    await waitFor('a ready pool member', async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pooled-pool')).status?.readyReplicas === 1, 60_000, 200);
    const res = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'pooled' } });
    assert.equal(res.status, 201, await res.clone().text());
    const sb = await res.json() as { id: string; fromPool: boolean };
    assert.equal(sb.fromPool, true);
    const claim = await client.get<SandboxClaim>(CLAIMS, ns, sb.id);
    assert.equal(claim.spec.warmPoolRef.name, 'pooled-pool');
    assert.match(claim.status!.sandbox!.name!, /^pooled-pool-/, 'bound to the pool member');
    const r = await (await api(server, `/v1/sandboxes/${sb.id}/exec`, { method: 'POST', json: { cmd: 'echo warm' } })).json() as { stdout: string };
    assert.equal(r.stdout, 'warm\n');
    assert.equal((await api(server, `/v1/sandboxes/${sb.id}`, { method: 'DELETE' })).status, 204);
  });

  it('runs commands in the pod\'s guest through the router, with the create\'s env', async () => {
    const res = await api(server, `/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: 'echo $FROM_CREATE; hostname -I 2>/dev/null | head -c0; echo done >&2; exit 4' } });
    assert.equal(res.status, 200, await res.clone().text());
    const r = await res.json() as { exitCode: number; stdout: string; stderr: string };
    assert.deepEqual([r.exitCode, r.stdout, r.stderr], [4, 'yes\n', 'done\n']);
    const m = await router.registry.metrics();
    assert.match(m, /sandbox_router_authz_decisions_total\{decision="allow"\} [1-9]/, 'the call went through the router, admitted by a scoped token');
  });

  it('reads and writes files through the router', async () => {
    const put = await api(server, `/v1/sandboxes/${id}/files?path=${encodeURIComponent('/home/user/a.txt')}`, { method: 'PUT', body: 'hello cluster' });
    assert.equal(put.status, 200, await put.clone().text());
    const got = await api(server, `/v1/sandboxes/${id}/files?path=${encodeURIComponent('/home/user/a.txt')}`);
    assert.equal(await got.text(), 'hello cluster');
    const list = await (await api(server, `/v1/sandboxes/${id}/files/list?path=${encodeURIComponent('/home/user')}`)).json() as { entries: { name: string }[] };
    assert.ok(list.entries.some((e) => e.name === 'a.txt'), JSON.stringify(list));
  });

  it('reaches a port of the sandbox through the router (the port proxy over the cluster)', { timeout: 60_000 }, async () => {
    const claim = await client.get<SandboxClaim>(CLAIMS, ns, id);
    const podIp = claim.status?.sandbox?.podIPs?.[0];
    assert.ok(podIp, JSON.stringify(claim.status));
    // The app inside the sandbox: an HTTP server on the pod's address (the simulated pod's guest runs it here).
    const bg = await api(server, `/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: `nohup /usr/bin/python3 -m http.server 8123 --bind ${podIp} --directory /home/user >/dev/null 2>&1 &` } });
    assert.equal(bg.status, 200, await bg.clone().text());
    const body = await waitFor('the app answers through the router', async () => {
      const r = await api(server, `/v1/sandboxes/${id}/ports/8123/a.txt`);
      return r.status === 200 ? r.text() : null;
    }, 30_000, 200);
    assert.equal(body, 'hello cluster');
    await api(server, `/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: 'pkill -f "http.server 8123" || true' } });
  });

  it('counts the cluster\'s sandboxes in /metrics and pages the list by cursor', async () => {
    assert.match(await (await api(server, '/metrics')).text(), /^agentbox_sandboxes\{state="running"\} [1-9]/m);
    const page = await (await api(server, '/v1/sandboxes?limit=1')).json() as { sandboxes: { id: string }[] };
    assert.equal(page.sandboxes.length, 1);
    const bad = await api(server, '/v1/sandboxes?limit=1&nextToken=zzzzzzzzzzzzzzzzzzzz');
    assert.equal(bad.status, 400);
  });

  it('any replica serves any sandbox: state is in the cluster', async () => {
    const got = await waitFor('the replica sees the sandbox', async () => {
      const r = await api(replica, `/v1/sandboxes/${id}`);
      return r.status === 200 ? r.json() as Promise<{ id: string }> : null;
    });
    assert.equal(got.id, id);
    const r = await (await api(replica, `/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: ['cat', '/home/user/a.txt'] } })).json() as { stdout: string };
    assert.equal(r.stdout, 'hello cluster');
  });

  it('keeps tenants and keys in the cluster: hashed, per tenant, honoured by every replica', async () => {
    const made = await api(server, '/v1/keys', { method: 'POST', json: { tenant: 'acme', name: 'ci' } });
    assert.equal(made.status, 201, await made.clone().text());
    const { key, id: keyId } = await made.json() as { key: string; id: string };
    const secrets = (await client.list<Secret>(SECRETS, ns, { labelSelector: 'agentbox.dev/api-key' })).items;
    assert.ok(secrets.length >= 2, 'admin key and the new key are Secrets');
    assert.ok(!JSON.stringify(secrets).includes(Buffer.from(key).toString('base64')) && !JSON.stringify(secrets).includes(key), 'no Secret holds the key itself');
    const acmeList = await waitFor('the replica knows the key', async () => {
      const r = await api(replica, '/v1/sandboxes', { key });
      return r.status === 200 ? r.json() as Promise<{ sandboxes: unknown[] }> : null;
    });
    assert.deepEqual(acmeList.sandboxes, [], 'acme does not see the default tenant\'s sandbox');
    assert.equal((await api(replica, `/v1/sandboxes/${id}`, { key })).status, 404);
    assert.equal((await api(server, `/v1/keys/${keyId}`, { method: 'DELETE' })).status, 204);
    await waitFor('the replica refuses the revoked key', async () => (await api(replica, '/v1/sandboxes', { key })).status === 401);
  });

  it('answers clear errors for what the cluster does not do yet, and for templates without the guest', async () => {
    const pause = await api(server, `/v1/sandboxes/${id}/pause`, { method: 'POST' });
    assert.equal((await pause.json() as { code: string; message: string }).code, 'not_supported', 'a sandbox created to be killed at its timeout has no pause');
    assert.ok(pause.status >= 400 && pause.status < 600);
    const mem = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'base', onTimeout: 'pause' } });
    assert.equal((await mem.json() as { code: string }).code, 'not_supported');
    const plain = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'plain' } });
    assert.equal(plain.status, 400);
    assert.match((await plain.json() as { message: string }).message, /agentbox\.dev\/inject-guest/);
    assert.equal((await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'nope' } })).status, 404);
    // The template sets a sandbox's resources; a create may not ask for more than it gives.
    await client.create(TEMPLATES, ns, { metadata: { name: 'small' }, spec: { podTemplate: {
      metadata: { annotations: { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' } },
      spec: basicPodSpec({ containers: [{ name: 'main', image: 'agentbox/test:1', resources: { limits: { cpu: '500m', memory: '256Mi' } } }] }),
    } } });
    for (const [json, re] of [[{ cpu: 2 }, /cpu 2 is more than SandboxTemplate 'small' gives its sandboxes \(limits\.cpu 500m\)/], [{ memoryMiB: 1024 }, /memoryMiB 1024 is more than .*limits\.memory 256Mi/]] as const) {
      const big = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'small', ...json } });
      assert.equal(big.status, 400);
      assert.match((await big.json() as { message: string }).message, re);
    }
    assert.equal((await client.list<SandboxClaim>(CLAIMS, ns, { labelSelector: 'agentbox.dev/template=small' })).items.length, 0, 'a refused create leaves no claim');
  });

  it('a timeout is the claim\'s shutdownTime: the operator deletes it and the sandbox is gone', async () => {
    const res = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'base' } });
    assert.equal(res.status, 201, await res.clone().text());
    const short = (await res.json() as { id: string }).id;
    const set = await api(server, `/v1/sandboxes/${short}/timeout`, { method: 'POST', json: { timeoutSeconds: 2 } });
    assert.equal(set.status, 200, await set.clone().text());
    const { expiresAt } = await set.json() as { expiresAt: string };
    assert.equal((await client.get<SandboxClaim>(CLAIMS, ns, short)).spec.lifecycle?.shutdownTime, expiresAt.replace(/\.\d{3}Z$/, 'Z'));
    await waitFor('the expired sandbox is gone', async () => (await api(server, `/v1/sandboxes/${short}`)).status === 404, 60_000, 200);
  });

  it('filesystem pause (onTimeout pause_filesystem): pause suspends the Sandbox (pod deleted), resume brings a new pod, the timeout pauses', { timeout: 120_000 }, async () => {
    const res = await api(server, '/v1/sandboxes', { method: 'POST', json: { template: 'base', onTimeout: 'pause_filesystem' } });
    assert.equal(res.status, 201, await res.clone().text());
    const fs = (await res.json() as { id: string }).id;
    const claim = await client.get<SandboxClaim>(CLAIMS, ns, fs);
    assert.equal(claim.spec.lifecycle?.shutdownTime, undefined, 'the operator must not delete it at the timeout');
    const sandboxName = claim.status!.sandbox!.name!;
    const podUid = (await client.get<Pod>(PODS, ns, sandboxName)).metadata.uid;

    const paused = await api(server, `/v1/sandboxes/${fs}/pause`, { method: 'POST' });
    assert.equal(paused.status, 200, await paused.clone().text());
    const view = await paused.json() as { state: string; expiresAt?: string };
    assert.deepEqual([view.state, view.expiresAt], ['paused', undefined], 'paused, and its timer stopped');
    assert.equal((await client.get<Sandbox>(SANDBOXES, ns, sandboxName)).spec.operatingMode, 'Suspended');
    await waitFor('the pod is deleted', async () => !(await client.getOrNull(PODS, ns, sandboxName)), 30_000, 100);
    const exec = await api(server, `/v1/sandboxes/${fs}/exec`, { method: 'POST', json: { cmd: 'true' } });
    assert.equal((await exec.json() as { code: string }).code, 'conflict', 'no commands while paused');

    const resumed = await api(server, `/v1/sandboxes/${fs}/resume`, { method: 'POST' });
    assert.equal(resumed.status, 200, await resumed.clone().text());
    assert.equal((await resumed.json() as { state: string }).state, 'running');
    assert.notEqual((await client.get<Pod>(PODS, ns, sandboxName)).metadata.uid, podUid, 'a new pod');
    const r = await (await api(server, `/v1/sandboxes/${fs}/exec`, { method: 'POST', json: { cmd: 'echo back' } })).json() as { stdout: string };
    assert.equal(r.stdout, 'back\n', JSON.stringify(r));

    assert.equal((await api(server, `/v1/sandboxes/${fs}/timeout`, { method: 'POST', json: { timeoutSeconds: 1 } })).status, 200);
    await waitFor('the timeout pauses it', async () => ((await (await api(server, `/v1/sandboxes/${fs}`)).json()) as { state: string }).state === 'paused', 30_000, 200);
    assert.ok(await client.getOrNull(CLAIMS, ns, fs), 'paused, not deleted');
    assert.equal((await api(server, `/v1/sandboxes/${fs}`, { method: 'DELETE' })).status, 204);
  });

  it('kill deletes the claim', async () => {
    assert.equal((await api(server, `/v1/sandboxes/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(server, `/v1/sandboxes/${id}`)).status, 404);
    await waitFor('claim deleted', async () => !(await client.getOrNull(CLAIMS, ns, id)));
  });

  it('`agentbox up --kubernetes` serves the cluster\'s sandboxes and keys', { timeout: 60_000 }, async () => {
    const cliHome = mkdtempSync(join(tmpdir(), 'agentbox-k8s-cli-'));
    const keyFile = join(cliHome, 'router.key');
    writeFileSync(keyFile, auth.mode === 'scoped-token' ? auth.key : '');
    const { child, line } = await spawnAndReadFirstLine('agentbox up --kubernetes', process.execPath, [join(ROOT, 'bin/agentbox.mjs'), 'up', '--kubernetes',
      '--namespace', ns, '--kubeconfig', KUBECONFIG, '--router-url', `http://127.0.0.1:${router.port}`, '--router-scoped-token-key-file', keyFile, '--port', '0'],
    { env: { ...process.env, AGENTBOX_HOME: cliHome }, timeoutMs: 45_000 });
    try {
      const url = /running on (\S+)/.exec(line)?.[1];
      assert.ok(url, line);
      const key = readFileSync(join(cliHome, 'admin.key'), 'utf8').trim();
      const res = await fetch(`${url}/v1/keys`, { headers: { Authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
      const keys = (await res.json() as { keys: { id: string }[] }).keys;
      assert.ok(keys.length >= 2, 'it sees the keys the other servers made in the namespace');
    } finally {
      child.kill('SIGTERM');
      await exited(child);
      rmSync(cliHome, { recursive: true, force: true });
    }
  });

  const manifest = sdkManifest();
  it('passes the E2B SDK scenarios that pass on one machine (npm e2b latest)', { skip: typeof manifest === 'string' ? manifest : false, timeout: 300_000 }, async () => {
    await assertE2bScenariosPass(manifest as SdkManifest, server);
  });
});
