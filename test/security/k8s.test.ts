// Kubernetes mode under attack (audit H6, M5, L11), against the real kube-apiserver of
// scripts/k8s-env.sh (the tests play the kubelet; "pods" are listeners on loopback addresses):
// - the router dials only pods of the named Sandbox: pod-IP hints naming anything else (metadata,
//   loopback and ULA addresses in any IPv6 spelling, another sandbox's pod) are refused and no
//   connection is made; the DNS fallback never reaches a Service that is not a Sandbox's, nor a
//   namespace the router does not serve;
// - `agentbox router` requires a scoped token unless allow-all is chosen;
// - an injected guest gets its own random envd token and init secret from a Secret, refuses calls
//   without the token, and the router adds the token for callers it admitted;
// - operator-made pods default to gVisor and a locked-down securityContext; a bare Sandbox gets a
//   default-deny NetworkPolicy admitting only the router;
// - the shipped manifests default to scoped tokens, a router NetworkPolicy and namespaced RBAC,
//   and the node agents (memory hibernation) serve HTTPS to an operator that holds no agent key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import { NETWORK_POLICIES, PODS, SECRETS, SERVICES, type KubeClient } from '../../src/k8s/client.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import { mintScopedToken } from '../../src/k8s/router/auth.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import type { NetworkPolicy } from '../../src/k8s/extensions/network-policy.ts';
import type { Secret } from '../../src/k8s/extensions/guest-secret.ts';
import { startGuest, type RunningGuest } from '../guest/fixture.ts';
import { HELM, helmMissing } from '../k8s/manifests.ts';
import {
  adminClient, createNamespace, createSandboxObject, createSandboxPod, deleteNamespace, ensureEnv, installCrds,
  KUBECONFIG, markPodReady, waitFor,
} from '../k8s/harness.ts';

const root = new URL('../..', import.meta.url).pathname;
const skip = ensureEnv();
if (skip) console.log(`# skipping Kubernetes security tests: ${skip}`);

/** A loopback HTTP server standing in for a pod (or for something the router must never reach). */
async function listener(host: string, port = 0): Promise<{ server: http.Server; port: number; hits: number }> {
  const state = { server: http.createServer((_req, res) => { state.hits++; res.end('reached'); }), port: 0, hits: 0 };
  await new Promise<void>((r) => state.server.listen(port, host, r));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}
const closeServer = (s?: http.Server) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));

describe('Kubernetes router: upstreams come from the cluster, never from the client', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let router: RunningRouter;
  let dnsRouter: RunningRouter;
  let pod: Awaited<ReturnType<typeof listener>>;
  let other: Awaited<ReturnType<typeof listener>>;
  let host: Awaited<ReturnType<typeof listener>>;
  const podIp = '127.1.210.1';
  const otherIp = '127.1.210.2';

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'sec-rt');
    pod = await listener(podIp);
    other = await listener(otherIp, pod.port);
    // Something on the router's own host that an IPv4-mapped loopback hint would reach.
    host = await listener('127.0.0.1');
    await createSandboxPod(client, await createSandboxObject(client, ns, 'sb1'), 'sb1', podIp);
    await createSandboxPod(client, await createSandboxObject(client, ns, 'sb2'), 'sb2', otherIp);
    // A plain Service that is not a Sandbox's, and a Sandbox whose pod is not running.
    await client.create(SERVICES, ns, { metadata: { name: 'db' }, spec: { ports: [{ port: 5432 }] } } as KubeObject);
    await createSandboxObject(client, ns, 'idle');
    const base = { port: 0, host: '127.0.0.1', client, namespaces: [ns] };
    router = await startRouter({ ...base, auth: { mode: 'allow-all' }, clusterDomain: '' });
    dnsRouter = await startRouter({ ...base, auth: { mode: 'allow-all' }, clusterDomain: 'cluster.local' });
  });
  after(async () => {
    await router?.close(); await dnsRouter?.close();
    await closeServer(pod?.server); await closeServer(other?.server); await closeServer(host?.server);
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const call = async (r: RunningRouter, headers: Record<string, string>) => {
    const res = await fetch(`http://127.0.0.1:${r.port}/`, { headers });
    return { status: res.status, text: await res.text() };
  };

  it('routes to the sandbox pod by name and by its own pod IP, in any spelling', async () => {
    const h = { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': String(pod.port) };
    await waitFor('router cache', async () => (await call(router, h)).status === 200);
    assert.deepEqual(await call(router, { ...h, 'X-Sandbox-Pod-IP': podIp }), { status: 200, text: 'reached' });
    assert.deepEqual(await call(router, { ...h, 'X-Sandbox-Pod-IP': '::ffff:127.1.210.1' }), { status: 200, text: 'reached' });
  });

  it('refuses pod-IP hints that are not the named sandbox\'s pod, without connecting', async () => {
    const h = { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns };
    const before = { host: host.hits, other: other.hits };
    for (const [hint, port] of [
      ['::ffff:169.254.169.254', 80], ['::ffff:a9fe:a9fe', 80], ['::a9fe:a9fe', 80], ['64:ff9b::a9fe:a9fe', 80],
      ['fd00:ec2::254', 80], ['100.100.100.200', 80], ['168.63.129.16', 80],
      ['0:0:0:0:0:ffff:7f00:1', host.port], ['::ffff:127.0.0.1', host.port], ['127.0.0.1', host.port], ['0:0:0:0:0:0:0:1', host.port],
      ['10.0.0.1', 443], ['fd00::1', 443],
      [otherIp, other.port], [`::ffff:${otherIp}`, other.port],
    ] as const) {
      const r = await call(router, { ...h, 'X-Sandbox-Pod-IP': hint, 'X-Sandbox-Port': String(port) });
      assert.equal(r.status, 400, `${hint} must be refused: ${r.text}`);
      assert.match(r.text, /X-Sandbox-Pod-IP/);
    }
    assert.deepEqual({ host: host.hits, other: other.hits }, before, 'no refused hint was dialled');
  });

  it('never uses DNS for names that are not Sandboxes or namespaces it does not serve', async () => {
    const db = await call(dnsRouter, { 'X-Sandbox-ID': 'db', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': '5432' });
    assert.equal(db.status, 404, db.text);
    assert.match(db.text, /sandbox .*\/db does not exist/);
    const k = await call(dnsRouter, { 'X-Sandbox-ID': 'kubernetes', 'X-Sandbox-Namespace': 'default', 'X-Sandbox-Port': '443' });
    assert.equal(k.status, 404, k.text);
    assert.match(k.text, /not a sandbox namespace/);
    // A Sandbox without a running pod and without a Service the operator reported: no DNS guess.
    const idle = await call(dnsRouter, { 'X-Sandbox-ID': 'idle', 'X-Sandbox-Namespace': ns });
    assert.equal(idle.status, 502, idle.text);
    assert.match(idle.text, /has no running pod/);
  });

  it('ignores pods that carry a sandbox\'s labels but are not controlled by that Sandbox', async () => {
    const decoyIp = '127.1.210.3';
    const laterIp = '127.1.210.4';
    const decoy = await listener(decoyIp, pod.port);
    const later = await listener(laterIp, pod.port);
    try {
      // A Sandbox without a pod, and a pod with its name-hash label but no owner: anyone with
      // pod-create in the namespace could make one to capture the Sandbox's traffic.
      await createSandboxObject(client, ns, 'victim');
      await client.create<Pod>(PODS, ns, { metadata: { name: 'decoy', labels: { 'agents.x-k8s.io/sandbox-name-hash': nameHash('victim') } }, spec: { containers: [{ name: 'c', image: 'x' }] } } as Pod);
      await markPodReady(client, ns, 'decoy', decoyIp);
      // Watch events arrive in order: once a pod made after the decoy routes, the router has seen the decoy.
      await createSandboxPod(client, await createSandboxObject(client, ns, 'later'), 'later', laterIp);
      await waitFor('router saw the later pod', async () => (await call(router, { 'X-Sandbox-ID': 'later', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': String(pod.port) })).status === 200);
      const h = { 'X-Sandbox-ID': 'victim', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': String(pod.port) };
      const byName = await call(router, h);
      assert.equal(byName.status, 502, byName.text);
      const byHint = await call(router, { ...h, 'X-Sandbox-Pod-IP': decoyIp });
      assert.equal(byHint.status, 400, byHint.text);
      assert.equal(decoy.hits, 0);
    } finally {
      await closeServer(decoy.server);
      await closeServer(later.server);
    }
  });
  it('never dials a host-network pod (its IP is the node\'s)', async () => {
    const nodeIp = '127.1.210.5';
    const node = await listener(nodeIp, pod.port);
    try {
      const sb = await createSandboxObject(client, ns, 'hostnet');
      await client.create<Pod>(PODS, ns, { metadata: { name: 'hostnet', labels: { 'agents.x-k8s.io/sandbox-name-hash': nameHash('hostnet') },
        ownerReferences: [{ apiVersion: 'agents.x-k8s.io/v1beta1', kind: 'Sandbox', name: 'hostnet', uid: sb.metadata.uid!, controller: true }] },
      spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x' }] } } as Pod);
      await markPodReady(client, ns, 'hostnet', nodeIp);
      await createSandboxPod(client, await createSandboxObject(client, ns, 'after-hostnet'), 'after-hostnet', '127.1.210.6');
      await waitFor('router saw the later pod', async () => (await call(router, { 'X-Sandbox-ID': 'after-hostnet', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': '1' })).status === 502
        && (await call(router, { 'X-Sandbox-ID': 'after-hostnet', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': '1' })).text.includes('127.1.210.6'));
      const h = { 'X-Sandbox-ID': 'hostnet', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': String(pod.port) };
      assert.equal((await call(router, h)).status, 502);
      assert.equal((await call(router, { ...h, 'X-Sandbox-Pod-IP': nodeIp })).status, 400);
      assert.equal(node.hits, 0);
    } finally {
      await closeServer(node.server);
    }
  });
});

describe('agentbox router requires a scoped token unless told otherwise', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let dir: string;
  let pod: Awaited<ReturnType<typeof listener>>;
  const podIp = '127.1.210.11';

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'sec-cli');
    pod = await listener(podIp);
    await createSandboxPod(client, await createSandboxObject(client, ns, 'sb1'), 'sb1', podIp);
    dir = mkdtempSync(join(tmpdir(), 'agentbox-router-key-'));
  });
  after(async () => {
    await closeServer(pod?.server);
    if (ns) await deleteNamespace(client, ns);
    client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/agentbox.mjs'), 'router', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('refuses to start without a key, naming the way out', () => {
    const r = cli(['--kubeconfig', KUBECONFIG, '--port', '0', '--namespace', ns]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /scoped-token \(the default\) needs --scoped-token-key-file/);
  });

  it('admits only callers with a token for that sandbox', { timeout: 90_000 }, async () => {
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'k'.repeat(48));
    const child = spawn(process.execPath, [join(root, 'bin/agentbox.mjs'), 'router', '--kubeconfig', KUBECONFIG, '--host', '127.0.0.1', '--port', '0',
      '--namespace', ns, '--scoped-token-key-file', keyFile, '--cluster-domain', ''], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let buf = '';
        const t = setTimeout(() => reject(new Error(`router did not start: ${buf}`)), 60_000);
        child.stderr!.on('data', (b: Buffer) => {
          buf += b.toString();
          const m = /"msg":"router listening","port":(\d+),"authz":"scoped-token"/.exec(buf);
          if (m) { clearTimeout(t); resolve(Number(m[1])); }
        });
        child.once('exit', (c) => { clearTimeout(t); reject(new Error(`router exited ${c}: ${buf}`)); });
      });
      const h = { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': String(pod.port) };
      const get = async (extra: Record<string, string> = {}) => (await fetch(`http://127.0.0.1:${port}/`, { headers: { ...h, ...extra } })).status;
      assert.equal(await get(), 401);
      const minted = cli(['token', '--scoped-token-key-file', keyFile, '--namespace', ns, '--sandbox', 'sb1', '--ttl', '60']);
      assert.equal(minted.status, 0, minted.stderr);
      assert.equal(await get({ Authorization: `Bearer ${minted.stdout.trim()}` }), 200);
      assert.equal(await get({ Authorization: `Bearer ${mintScopedToken(Buffer.from('k'.repeat(48)), ns, 'sb2', Math.floor(Date.now() / 1000) + 60)}` }), 403);
      assert.equal(pod.hits, 1, 'only the admitted call reached the pod');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('operator: pod defaults, bare-Sandbox policy and injected guest tokens', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let op: RunningOperator;
  let router: RunningRouter;
  let guest: RunningGuest | undefined;
  const podIp = '127.1.210.21';

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'sec-op');
    op = await startOperator({ client, namespace: ns });
    router = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth: { mode: 'allow-all' }, clusterDomain: '' });
  });
  after(async () => {
    await guest?.stop();
    await router?.close();
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('creates a bare Sandbox pod under gVisor with a locked-down securityContext and no API token', async () => {
    await client.create(SANDBOXES, ns, { metadata: { name: 'plain' }, spec: { podTemplate: { spec: { containers: [{ name: 'main', image: 'busybox' }] } } } } as unknown as Sandbox);
    const p = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'plain'));
    assert.equal(p.spec.runtimeClassName, 'gvisor');
    assert.deepEqual(p.spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(p.spec.containers[0]!.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    assert.equal(p.spec.automountServiceAccountToken, false);
    // CoreDNS is outside what the default policy admits, so names go to public resolvers.
    assert.equal(p.spec.dnsPolicy, 'None');
  });

  it('keeps what a pod template sets explicitly', async () => {
    await client.create(SANDBOXES, ns, { metadata: { name: 'chosen' }, spec: { podTemplate: { spec: {
      runtimeClassName: 'gvisor', securityContext: { runAsUser: 1000 },
      containers: [{ name: 'main', image: 'busybox', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } }],
    } } } } as unknown as Sandbox);
    const p = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'chosen'));
    assert.deepEqual(p.spec.securityContext, { runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(p.spec.containers[0]!.securityContext, { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } });
  });

  it('gives a bare Sandbox a default-deny NetworkPolicy that admits only the router', async () => {
    const np = await waitFor('policy', () => client.getOrNull<NetworkPolicy>(NETWORK_POLICIES, ns, 'plain-sandbox-network-policy'));
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.equal(np.metadata.ownerReferences?.[0]?.kind, 'Sandbox');
    assert.deepEqual(np.spec.ingress, [{ from: [{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agent-sandbox-system' } },
      podSelector: { matchLabels: { app: 'sandbox-router' } },
    }] }]);
    const blocks = (np.spec.egress as { to: { ipBlock: { cidr: string; except: string[] } }[] }[])[0]!.to.map((t) => t.ipBlock);
    for (const cidr of ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16']) {
      assert.ok(blocks[0]!.except.includes(cidr), `IPv4 egress excepts ${cidr}`);
    }
    assert.equal(blocks[1]!.cidr, '2000::/3', 'IPv6 egress is global unicast only');
  });

  it('gives an injected guest its own random token; the guest refuses calls without it, the router adds it', { timeout: 60_000 }, async () => {
    const make = (name: string) => client.create(SANDBOXES, ns, { metadata: { name }, spec: { podTemplate: {
      metadata: { annotations: { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' } },
      spec: { containers: [{ name: 'main', image: 'busybox' }] },
    } } } as unknown as Sandbox);
    await make('g1');
    await make('g2');
    const p = await waitFor('pod', () => client.getOrNull<Pod>(PODS, ns, 'g1'));
    const vol = p.spec.volumes?.find((v) => v.name === 'agentbox-guest-config') as { secret?: { secretName: string } } | undefined;
    assert.equal(vol?.secret?.secretName, 'g1-agentbox-guest', 'the pod mounts its own Secret');
    const config = async (name: string) => {
      const s = await waitFor('guest secret', () => client.getOrNull<Secret>(SECRETS, ns, `${name}-agentbox-guest`));
      assert.equal(s.metadata.ownerReferences?.[0]?.kind, 'Sandbox');
      return JSON.parse(Buffer.from(s.data!['config.json']!, 'base64').toString()) as { accessToken: string; initSecret: string; port: number };
    };
    const c1 = await config('g1');
    const c2 = await config('g2');
    assert.match(c1.accessToken, /^[0-9a-f]{64}$/);
    assert.match(c1.initSecret, /^[0-9a-f]{64}$/);
    assert.notEqual(c1.accessToken, c2.accessToken, 'tokens are per sandbox');
    assert.notEqual(c1.initSecret, c2.initSecret, 'init secrets are per sandbox');
    assert.ok(!JSON.stringify(p.spec).includes(c1.accessToken), 'the token is not in the pod spec');

    // Play the kubelet: the pod's container is the guest, run with the config its Secret holds.
    guest = await startGuest({ config: { ...c1, host: podIp } });
    await markPodReady(client, ns, 'g1', podIp);
    const files = `/files?path=${encodeURIComponent('/etc/hostname')}`;
    assert.equal((await fetch(`http://${podIp}:${c1.port}${files}`)).status, 401, 'no token, no access');
    assert.equal((await fetch(`http://${podIp}:${c1.port}${files}`, { headers: { 'X-Access-Token': c2.accessToken } })).status, 401, "another sandbox's token does not open it");
    const via = await waitFor('routed', async () => {
      const r = await fetch(`http://127.0.0.1:${router.port}${files}`, { headers: { 'X-Sandbox-ID': 'g1', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': String(c1.port) } });
      return r.status === 200 ? r : null;
    });
    assert.equal(await via.text(), readFileSync('/etc/hostname', 'utf8'));
  });
});

describe('shipped manifests default to scoped tokens and least privilege', () => {
  const kubectl = spawnSync('kubectl', ['kustomize', join(root, 'deploy/kustomize/base')], { encoding: 'utf8', timeout: 60_000 });
  type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown>; rules?: { resources: string[] }[]; roleRef?: { name: string } };

  it('kustomize: scoped-token router with its key Secret, router NetworkPolicy, namespaced router RBAC', { skip: kubectl.status === 0 ? false : `kubectl kustomize unavailable: ${kubectl.error?.message ?? kubectl.stderr}` }, () => {
    const objs = parseAllDocuments(kubectl.stdout).map((d) => d.toJSON() as Obj);
    const router = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'sandbox-router')!;
    const pod = (router.spec!.template as { spec: { containers: { args: string[] }[]; volumes: { secret?: { secretName: string } }[] } }).spec;
    const args = pod.containers[0]!.args;
    assert.ok(args.includes('--authz-mode=scoped-token'), `router args ${args.join(' ')} choose scoped-token`);
    assert.ok(args.includes('--scoped-token-key-file=/etc/router-auth/key'), 'the key file comes from the mounted Secret');
    assert.equal(pod.volumes[0]!.secret?.secretName, 'sandbox-router-auth');
    assert.ok(objs.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'sandbox-router' && o.metadata.namespace === 'agent-sandbox-system'), 'the router namespace has a NetworkPolicy for the router');
    assert.ok(!objs.some((o) => o.kind === 'ClusterRoleBinding' && o.roleRef?.name === 'sandbox-router'), 'the router has no cluster-wide binding');
    assert.ok(objs.some((o) => o.kind === 'RoleBinding' && o.roleRef?.name === 'sandbox-router' && o.metadata.namespace === 'default'), 'the router is bound in the sandbox namespace only');
    const operatorRole = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'agent-sandbox-controller')!;
    assert.ok(!operatorRole.rules!.some((r) => r.resources.includes('leases')), 'leases are in a namespaced Role');
    const operator = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'agent-sandbox-controller')!;
    assert.ok(JSON.stringify(operator.spec).includes('--runtime-class=gvisor'), 'the operator is told gvisor explicitly');
  });

  // The node agents checkpoint any pod's memory on their node: their token and requests never
  // cross the node network in the clear, and the operator can verify them but not pose as one.
  const nodeAgentTls = (objs: Obj[], how: string) => {
    type PodSpec = { containers: { args: string[]; readinessProbe?: { httpGet?: { scheme?: string } } }[]; volumes?: { name: string; secret?: { secretName: string; items?: { key: string }[] } }[] };
    const podOf = (kind: string, name: string) => (objs.find((o) => o.kind === kind && o.metadata.name === name)!.spec!.template as { spec: PodSpec }).spec;
    const agent = podOf('DaemonSet', 'agentbox-node-agent');
    assert.ok(agent.containers[0]!.args.includes('--tls-cert-file=/etc/agentbox/node-agent/tls.crt'), `${how}: the node agent serves HTTPS`);
    assert.ok(agent.containers[0]!.args.includes('--tls-key-file=/etc/agentbox/node-agent/tls.key'), `${how}: with its key`);
    assert.equal(agent.containers[0]!.readinessProbe?.httpGet?.scheme, 'HTTPS', `${how}: probed over HTTPS`);
    const operator = podOf('Deployment', 'agent-sandbox-controller');
    assert.ok(operator.containers[0]!.args.includes('--node-agent-ca-file=/etc/agentbox/node-agent/tls.crt'), `${how}: the operator trusts the agents' certificate only`);
    const mounted = operator.volumes!.find((v) => v.secret?.secretName === 'agentbox-node-agent')!;
    assert.deepEqual(mounted.secret!.items!.map((i) => i.key).sort(), ['tls.crt', 'token'], `${how}: the operator gets the token and the certificate, never the agents' key`);
  };

  it('kustomize hibernation: node agents serve HTTPS; the operator trusts their certificate and holds no agent key', { skip: kubectl.status === 0 ? false : 'kubectl kustomize unavailable' }, () => {
    const r = spawnSync('kubectl', ['kustomize', join(root, 'deploy/kustomize/hibernation')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    nodeAgentTls(parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj), 'kustomize');
  });

  it('helm with nodeAgent.enabled: the same, with the certificate generated once (lookup) and kept', { skip: helmMissing }, () => {
    const r = spawnSync(HELM, ['template', 't', join(root, 'deploy/helm/agentbox-operator'), '--namespace', 'agent-sandbox-system', '--set', 'nodeAgent.enabled=true'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const objs = parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj).filter(Boolean);
    nodeAgentTls(objs, 'helm');
    const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'agentbox-node-agent') as unknown as { data: Record<string, string> };
    assert.match(Buffer.from(secret.data['tls.crt']!, 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
    assert.match(readFileSync(join(root, 'deploy/helm/agentbox-operator/templates/node-agent.yaml'), 'utf8'), /genSelfSignedCert "agentbox-node-agent"/);
  });

  it('helm: scoped-token by default, key generated once (lookup) and kept', () => {
    const values = parse(readFileSync(join(root, 'deploy/helm/agentbox-operator/values.yaml'), 'utf8')) as { router: { authzMode: string; networkPolicy: { enabled: boolean } }; controller: { runtimeClassName: string } };
    assert.equal(values.router.authzMode, 'scoped-token');
    assert.equal(values.router.networkPolicy.enabled, true);
    assert.equal(values.controller.runtimeClassName, 'gvisor');
    const tpl = readFileSync(join(root, 'deploy/helm/agentbox-operator/templates/router.yaml'), 'utf8');
    assert.match(tpl, /lookup "v1" "Secret" \.Release\.Namespace "sandbox-router-auth"/);
    assert.match(tpl, /randAlphaNum 64/);
    assert.match(tpl, /helm\.sh\/resource-policy: keep/);
  });
});
