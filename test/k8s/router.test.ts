// The router: header validation, resolution (name, UID, pod IP hint, warm pods only by UID),
// token and scoped-token authorisation, HTTP and WebSocket proxying, health and metrics.
// (Refusals of upstreams a client tries to steer to are in test/security/k8s.test.ts.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import type { KubeClient } from '../../src/k8s/client.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import { mintScopedToken, ROUTER_CREDENTIAL_HEADER } from '../../src/k8s/router/auth.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import { PODS } from '../../src/k8s/client.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import { adminClient, createNamespace, createSandboxObject, createSandboxPod, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping router tests: ${skip}`);

describe('sandbox router', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let upstream: http.Server;
  let second: http.Server;
  let wss: WebSocketServer;
  let open: RunningRouter, tokenRouter: RunningRouter, scoped: RunningRouter;
  const ip = '127.1.201.1';
  const warmIp = '127.1.201.2';
  const key = Buffer.from('k'.repeat(32));
  let warmUid = '';

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'rt');
    // The "pod": an HTTP + WebSocket echo server on a loopback address.
    upstream = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        path: req.url, host: req.headers.host, auth: req.headers.authorization ?? null, local: req.socket.localAddress,
        routerCredential: req.headers[ROUTER_CREDENTIAL_HEADER] ?? null,
      }));
    });
    wss = new WebSocketServer({ server: upstream });
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo:${m.toString()}:origin=${req.headers.origin ?? 'none'}`)));
    await new Promise<void>((r) => upstream.listen(8888, ip, r));
    second = http.createServer((_req, res) => res.end('warm'));
    await new Promise<void>((r) => second.listen(8888, warmIp, r));

    await createSandboxPod(client, await createSandboxObject(client, ns, 'sb1'), 'sb1', ip);
    const warmLabel = { 'agents.x-k8s.io/warm-pool-sandbox': nameHash('pool') };
    const warm = await createSandboxPod(client, await createSandboxObject(client, ns, 'pool-abcde', { labels: warmLabel }), 'pool-abcde', warmIp, warmLabel);
    warmUid = warm.metadata.uid!;
    const base = { port: 0, host: '127.0.0.1', client, namespaces: [ns], clusterDomain: '' };
    open = await startRouter({ ...base, auth: { mode: 'allow-all' } });
    tokenRouter = await startRouter({ ...base, auth: { mode: 'token', token: 'secret' } });
    scoped = await startRouter({ ...base, auth: { mode: 'scoped-token', key } });
  });
  after(async () => {
    await open?.close(); await tokenRouter?.close(); await scoped?.close();
    wss?.close();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    await new Promise<void>((r) => (second ? second.close(() => r()) : r()));
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const call = async (r: RunningRouter, headers: Record<string, string>, path = '/x?y=1') => {
    const res = await fetch(`http://127.0.0.1:${r.port}${path}`, { headers });
    return { status: res.status, body: await res.json().catch(() => null) as Record<string, unknown> | null };
  };

  it('proxies by X-Sandbox-ID/Namespace/Port, strips Host and Authorization', async () => {
    const r = await waitFor('routed', async () => {
      const x = await call(open, { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, Authorization: 'Bearer nope' });
      return x.status === 200 ? x : null;
    });
    assert.deepEqual(r.body, { path: '/x?y=1', host: `${ip}:8888`, auth: null, local: ip, routerCredential: null });
    const basic = 'Basic dXNlcjo=';
    const user = await call(open, { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, Authorization: basic });
    assert.equal(user.body?.auth, basic, "Basic auth is the sandbox's (the E2B SDKs choose the guest's user with it) and passes");
  });

  it('validates headers and reports errors as {"detail"}', async () => {
    assert.equal((await call(open, {})).status, 400);
    const bad = await call(open, { 'X-Sandbox-ID': 'Bad_Name' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body?.detail), /DNS-1123/);
    assert.equal((await call(open, { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': '99999' })).status, 400);
    assert.equal((await call(open, { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Pod-IP': '127.0.0.1' })).status, 400, 'loopback hints are refused unless they name a sandbox pod');
    assert.equal((await call(open, { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Pod-IP': ip })).status, 200);
    assert.equal((await call(open, { 'X-Sandbox-ID': 'nope', 'X-Sandbox-Namespace': ns })).status, 404, 'not a Sandbox');
  });

  it('reaches unclaimed warm pods only by UID', async () => {
    assert.equal((await call(open, { 'X-Sandbox-ID': 'pool-abcde', 'X-Sandbox-Namespace': ns })).status, 502);
    const res = await fetch(`http://127.0.0.1:${open.port}/`, { headers: { 'X-Sandbox-ID': 'pool-abcde', 'X-Sandbox-Namespace': ns, 'X-Sandbox-UID': warmUid } });
    assert.equal(await res.text(), 'warm');
  });

  it('a claimed pool member answers by name and pod IP once its Sandbox leaves the pool, before its pod is relabelled', async () => {
    // A claim takes a member by removing the pool label from the Sandbox; the pod's copy goes on
    // the sandbox controller's next sync, and the claimant's first call can come before that.
    const claimedIp = '127.1.201.3';
    const member = http.createServer((_req, res) => res.end('claimed'));
    await new Promise<void>((r) => member.listen(8888, claimedIp, r));
    try {
      const warmLabel = { 'agents.x-k8s.io/warm-pool-sandbox': nameHash('pool') };
      const pod = await createSandboxPod(client, await createSandboxObject(client, ns, 'pool-fghij', { labels: warmLabel }), 'pool-fghij', claimedIp, warmLabel);
      const byName = { 'X-Sandbox-ID': 'pool-fghij', 'X-Sandbox-Namespace': ns };
      const text = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${open.port}/`, { headers }).then(async (r) => (r.status === 200 ? r.text() : null));
      await waitFor('the router sees the member', () => text({ ...byName, 'X-Sandbox-UID': pod.metadata.uid! }));
      assert.equal((await call(open, byName)).status, 502, 'unclaimed: not by name');

      await client.patch(SANDBOXES, ns, 'pool-fghij', { metadata: { labels: { 'agents.x-k8s.io/warm-pool-sandbox': null } } });
      assert.equal(await waitFor('the claimed member by name', () => text(byName)), 'claimed');
      assert.equal(await text({ ...byName, 'X-Sandbox-Pod-IP': claimedIp }), 'claimed', 'and by the pod IP the Sandbox reports');
      const now = await client.get<{ metadata: { labels?: Record<string, string> } }>(PODS, ns, 'pool-fghij');
      assert.ok(now.metadata.labels?.['agents.x-k8s.io/warm-pool-sandbox'], 'the pod still carries the pool label (no controller runs here)');
    } finally {
      await new Promise<void>((r) => member.close(() => r()));
    }
  });

  it('token mode requires the shared bearer token', async () => {
    const h = { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns };
    assert.equal((await call(tokenRouter, h)).status, 401);
    assert.equal((await call(tokenRouter, { ...h, Authorization: 'Bearer wrong' })).status, 403);
    const ok = await call(tokenRouter, { ...h, Authorization: 'Bearer secret' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body?.auth, null, 'the token is not forwarded to the sandbox');
    // A caller that forwards its client's Authorization (the agentbox server) sends the token in
    // the router's own header; that header stays in the router and Authorization passes.
    assert.equal((await call(tokenRouter, { ...h, [ROUTER_CREDENTIAL_HEADER]: 'Bearer wrong', Authorization: 'Bearer secret' })).status, 403, "the router's own header comes first");
    const forwarded = await call(tokenRouter, { ...h, [ROUTER_CREDENTIAL_HEADER]: 'Bearer secret', Authorization: 'Basic dXNlcjo=' });
    assert.equal(forwarded.status, 200);
    assert.deepEqual([forwarded.body?.auth, forwarded.body?.routerCredential], ['Basic dXNlcjo=', null]);
    assert.equal((await call(tokenRouter, { ...h, Authorization: 'Basic dXNlcjo=' })).status, 401, 'Basic auth is no router credential');
  });

  it('scoped-token mode binds a token to one sandbox until it expires', async () => {
    const h = { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns };
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await call(scoped, { ...h, Authorization: `Bearer ${mintScopedToken(key, ns, 'sb1', now + 60)}` })).status, 200);
    assert.equal((await call(scoped, { ...h, Authorization: `Bearer ${mintScopedToken(key, ns, 'other', now + 60)}` })).status, 403);
    assert.equal((await call(scoped, { ...h, Authorization: `Bearer ${mintScopedToken(key, ns, 'sb1', now - 1)}` })).status, 401);
    assert.equal((await call(scoped, { ...h, Authorization: `Bearer ${mintScopedToken(Buffer.from('x'.repeat(32)), ns, 'sb1', now + 60)}` })).status, 403);
    assert.equal((await call(scoped, { ...h, 'X-Sandbox-Pod-IP': ip, Authorization: `Bearer ${mintScopedToken(key, ns, 'sb1', now + 60)}` })).status, 400);
  });

  it('proxies WebSocket upgrades and strips Origin', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${open.port}/ws`, { headers: { 'X-Sandbox-ID': 'sb1', 'X-Sandbox-Namespace': ns, Origin: 'http://evil.example' } });
    const msg = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no websocket reply in 5s')), 5000);
      ws.on('open', () => ws.send('ping'));
      ws.on('message', (m) => { clearTimeout(t); resolve(m.toString()); });
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(msg, 'echo:ping:origin=none');
  });

  it('serves /healthz and router metrics', async () => {
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${open.port}/healthz`)).json(), { status: 'ok' });
    const text = await (await fetch(`http://127.0.0.1:${open.port}/metrics`)).text();
    assert.match(text, /sandbox_router_requests_total\{code="200",resolved_via="name"\}/);
  });
});
