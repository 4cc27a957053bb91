// Ports, traffic and the HTTP server itself (issue 8 item 6; audit M2, L1, L4, L5, L6, L8, L9),
// against a real server on the real engine (runc, the base template). An echo app inside the
// sandbox (python, ports 8080 and 49999) answers with what it received, so the test sees exactly
// what reached sandbox code.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startGuest } from '../guest/fixture.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { waitFor } from '../support/wait.ts';

const DOMAIN = 'sbx.test';
const IDLE_MS = 3000;
const MAX_CONNECTIONS = 1000;

const ECHO_APP = `
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get('content-length') or 0)
        self.rfile.read(n)
        body = json.dumps({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *a):
        pass
for p in sys.argv[1:]:
    threading.Thread(target=ThreadingHTTPServer(('0.0.0.0', int(p)), H).serve_forever).start()
`;

let s: RealServer | undefined;
let skip: string | false = false;

before(async () => {
  const r = await startRealServer('sec-gateway', { runtime: 'gvisor', domain: DOMAIN, limits: { idleTimeoutMs: IDLE_MS, maxConnections: MAX_CONNECTIONS } });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
});
after(async () => { await s?.stop(); });

interface Raw { status: number; body: string; json(): { [k: string]: unknown } }

/** A request sent exactly as written (no path normalisation, any Host). */
function raw(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${s!.server.url}${path.startsWith('/') ? '' : '/'}`, { method: init.method ?? 'GET', path, headers: init.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) as { [k: string]: unknown } }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

interface E2bSandbox { sandboxID: string; envdAccessToken: string; trafficAccessToken: string | null }

async function e2bCreate(body: Record<string, unknown> = {}): Promise<E2bSandbox> {
  const res = await s!.api('/e2b/sandboxes', { method: 'POST', json: { templateID: 'base', timeout: 600, ...body } });
  const out = await res.json();
  assert.equal(res.status, 201, JSON.stringify(out));
  return out as E2bSandbox;
}

/** Starts the echo app on `ports` and waits until it answers (through the owner's API path). */
async function startEcho(id: string, ports: number[]): Promise<void> {
  const put = await s!.api(`/v1/sandboxes/${id}/files?path=/tmp/echo.py`, { method: 'PUT', body: ECHO_APP });
  assert.equal(put.status, 200, await put.text());
  const run = await s!.api(`/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: `python3 /tmp/echo.py ${ports.join(' ')} >/dev/null 2>&1 &` } });
  assert.equal(run.status, 200, await run.text());
  for (const port of ports) {
    await waitFor(`the echo server on port ${port} to answer`, async () => {
      const res = await s!.api(`/v1/sandboxes/${id}/ports/${port}/ready`);
      await res.arrayBuffer();
      return res.status === 200;
    }, 60_000, 100);
  }
}

const byHost = (id: string, port: number, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  raw(path, { method, headers: { Host: `${port}-${id}.${DOMAIN}`, ...headers } });
const byE2bHeaders = (id: string, port: number, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  raw(`/e2b/sandbox${path}`, { method, headers: { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': String(port), ...headers } });
const echoed = (r: Raw) => r.json() as { path: string; headers: Record<string, string> };

describe('ports of a sandbox', () => {
  let pub: E2bSandbox;
  let priv: E2bSandbox;
  before(async () => {
    if (skip) return;
    pub = await e2bCreate();
    priv = await e2bCreate({ network: { allowPublicTraffic: false } });
    await Promise.all([startEcho(pub.sandboxID, [8080, 49999]), startEcho(priv.sandboxID, [8080])]);
  });

  test('an agentbox key never reaches sandbox code, by host or by path; other credentials do', async (t) => {
    if (skip) return t.skip(skip);
    const key = s!.server.adminKey;
    const viaHost = echoed(await byHost(pub.sandboxID, 8080, '/h', { Authorization: `Bearer ${key}`, 'X-API-Key': key }));
    assert.equal(viaHost.headers.authorization, undefined);
    assert.equal(viaHost.headers['x-api-key'], undefined);
    const own = echoed(await byHost(pub.sandboxID, 8080, '/h', { Authorization: 'Bearer app-token' }));
    assert.equal(own.headers.authorization, 'Bearer app-token', "the app's own bearer token passes");
    const viaPath = echoed(await raw(`/v1/sandboxes/${pub.sandboxID}/ports/8080/p`, { headers: { Authorization: `Bearer ${key}` } }));
    assert.equal(viaPath.headers.authorization, undefined);
  });

  test('allowPublicTraffic:false: anonymous traffic needs e2b-traffic-access-token', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal(pub.trafficAccessToken, null);
    assert.equal(typeof priv.trafficAccessToken, 'string');
    const detail = await (await s!.api(`/e2b/sandboxes/${priv.sandboxID}`)).json();
    assert.equal(detail.trafficAccessToken, priv.trafficAccessToken);
    for (const send of [byHost, byE2bHeaders]) {
      const refused = await send(priv.sandboxID, 8080, '/x');
      assert.equal(refused.status, 403, refused.body);
      assert.match(refused.body, /e2b-traffic-access-token/);
      assert.equal((await send(priv.sandboxID, 8080, '/x', { 'E2B-Traffic-Access-Token': 'wrong' })).status, 403);
      const ok = await send(priv.sandboxID, 8080, '/x', { 'E2B-Traffic-Access-Token': priv.trafficAccessToken! });
      assert.equal(ok.status, 200, ok.body);
    }
    // A public sandbox stays public, as on E2B.
    assert.equal((await byHost(pub.sandboxID, 8080, '/x')).status, 200);
  });

  test("the code interpreter's /execute (port 49999) needs the sandbox's X-Access-Token", async (t) => {
    if (skip) return t.skip(skip);
    for (const send of [byHost, byE2bHeaders]) {
      for (const path of ['/execute', '/./execute', '//execute', '/execute/', '/%65xecute']) {
        const refused = await send(pub.sandboxID, 49999, path, {}, 'POST');
        assert.equal(refused.status, 401, `${path}: ${refused.body}`);
      }
      assert.equal((await send(pub.sandboxID, 49999, '/execute', { 'X-Access-Token': 'wrong' }, 'POST')).status, 401);
      const ok = await send(pub.sandboxID, 49999, '/execute', { 'X-Access-Token': pub.envdAccessToken }, 'POST');
      assert.equal(ok.status, 200, ok.body);
      // Context management carries no token in E2B's SDKs, and E2B serves it without one.
      assert.equal((await send(pub.sandboxID, 49999, '/contexts')).status, 200);
    }
  });

  test("the guest's internal routes are blocked in every spelling", async (t) => {
    if (skip) return t.skip(skip);
    for (const path of ['/init', '/./init', '//init', '/init/', '/%69nit', '/x/../init', '/%2finit', '/start-command', '/%73tart-command', '/heap-settled']) {
      const viaE2b = await byE2bHeaders(pub.sandboxID, 49983, path, { 'X-Access-Token': pub.envdAccessToken }, 'POST');
      assert.equal(viaE2b.status, 404, `${path}: ${viaE2b.body}`);
      assert.match(viaE2b.body, /internal to the sandbox/);
      const viaPath = await raw(`/v1/sandboxes/${pub.sandboxID}/ports/49983${path}`, { method: 'POST', headers: { Authorization: `Bearer ${s!.server.adminKey}` } });
      assert.equal(viaPath.status, 404, `${path}: ${viaPath.body}`);
      assert.match(viaPath.body, /internal to the sandbox/);
    }
  });

  test('a paused autoResume sandbox wakes only for traffic that passes the checks', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await e2bCreate({ autoPause: true, autoResume: { enabled: true }, network: { allowPublicTraffic: false } });
    await startEcho(sbx.sandboxID, [8080, 49999]);
    const pause = await s!.api(`/e2b/sandboxes/${sbx.sandboxID}/pause`, { method: 'POST' });
    assert.equal(pause.status, 204, await pause.text());
    const state = async () => (await (await s!.api(`/v1/sandboxes/${sbx.sandboxID}`)).json()).state as string;
    assert.equal(await state(), 'paused');
    assert.equal((await byHost(sbx.sandboxID, 8080, '/x')).status, 403);
    assert.equal((await byHost(sbx.sandboxID, 49999, '/execute', { 'E2B-Traffic-Access-Token': sbx.trafficAccessToken! }, 'POST')).status, 401);
    assert.equal((await byE2bHeaders(sbx.sandboxID, 49983, '/files?path=/etc/hostname', { 'X-Access-Token': 'wrong' })).status, 401);
    assert.equal(await state(), 'paused', 'refused traffic did not resume it');
    const ok = await byHost(sbx.sandboxID, 8080, '/x', { 'E2B-Traffic-Access-Token': sbx.trafficAccessToken! });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(await state(), 'running');
  });

  test('a fork of a private sandbox is private, with its own token', async (t) => {
    if (skip) return t.skip(skip);
    const res = await s!.api(`/e2b/sandboxes/${priv.sandboxID}/fork`, { method: 'POST', json: {} });
    const out = await res.json();
    assert.equal(res.status, 201, JSON.stringify(out));
    const fork = out[0].sandbox as E2bSandbox;
    assert.equal(typeof fork.trafficAccessToken, 'string');
    assert.notEqual(fork.trafficAccessToken, priv.trafficAccessToken);
    await s!.api(`/e2b/sandboxes/${fork.sandboxID}`, { method: 'DELETE' });
  });

  test('guest uploads never write through a symlink the sandbox user planted', async (t) => {
    if (skip) return t.skip(skip);
    const id = pub.sandboxID;
    const before = await (await s!.api(`/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: 'ln -s /etc/shadow /home/user/notes.txt; sha256sum /etc/shadow', user: 'root' } })).json();
    const put = await s!.api(`/v1/sandboxes/${id}/files?path=/home/user/notes.txt`, { method: 'PUT', body: 'pwned::0:0:99999:7:::\n' });
    assert.equal(put.status, 403, await put.text());
    const afterwards = await (await s!.api(`/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: 'sha256sum /etc/shadow; stat -c %U /etc/shadow', user: 'root' } })).json();
    assert.equal(afterwards.stdout, `${before.stdout}root\n`);
  });
});

describe('the API server', () => {
  test('/metrics needs an admin key', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal((await raw('/metrics')).status, 401);
    const tenant = await (await s!.api('/v1/tenants', { method: 'POST', json: { name: 'metrics-reader' } })).json();
    const key = await (await s!.api('/v1/keys', { method: 'POST', json: { tenant: tenant.name, admin: false } })).json();
    const asTenant = await raw('/metrics', { headers: { Authorization: `Bearer ${key.key}` } });
    assert.equal(asTenant.status, 403);
    assert.doesNotMatch(asTenant.body, /agentbox_pool_size/);
    const asAdmin = await raw('/metrics', { headers: { Authorization: `Bearer ${s!.server.adminKey}` } });
    assert.equal(asAdmin.status, 200);
    assert.match(asAdmin.body, /agentbox_sandboxes/);
  });

  test('a bad percent-escape in a path is 400, not 500', async (t) => {
    if (skip) return t.skip(skip);
    const res = await raw('/v1/sandboxes/%E0%A4%A', { headers: { Authorization: `Bearer ${s!.server.adminKey}` } });
    assert.equal(res.status, 400, res.body);
    assert.equal(res.json().code, 'invalid_argument');
    const e2b = await raw('/e2b/sandboxes/%E0%A4%A', { headers: { 'X-API-Key': s!.server.adminKey } });
    assert.equal(e2b.status, 400, e2b.body);
  });

  test('E2B allowOut/denyOut are bounded like the native API', async (t) => {
    if (skip) return t.skip(skip);
    const many = Array.from({ length: 257 }, (_, i) => `10.0.${i >> 8}.${i & 255}/32`);
    const res = await s!.api('/e2b/sandboxes', { method: 'POST', json: { templateID: 'base', network: { allowOut: many } } });
    assert.equal(res.status, 400, await res.text());
  });

  test('a quiet exec outlives the idle timeout (it bounds itself)', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await e2bCreate();
    const res = await s!.api(`/v1/sandboxes/${sbx.sandboxID}/exec`, { method: 'POST', json: { cmd: `sleep ${(IDLE_MS * 2) / 1000}; echo woke` } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).stdout, 'woke\n');
  });

  test('1,000 idle connections: the cap refuses more, the idle timeout closes them, then requests succeed', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const url = new URL(s!.server.url);
    const open = (): Promise<{ socket: Socket; closed: Promise<void> }> => new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      socket.on('error', () => {});
      socket.once('connect', () => resolve({ socket, closed }));
      socket.once('error', reject);
    });
    const idle = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) idle.push(await open());
    // The server counts a connection once it accepted it: one more request is refused once all
    // of them are in (the server closes the new socket; the request fails).
    const healthz = (): Promise<number> => new Promise((resolve, reject) => {
      // agent: false: a new connection each time, never a kept-alive one from before the cap.
      const req = request(`${s!.server.url}/healthz`, { agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', reject);
      req.end();
    });
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) refused = await healthz().then(() => false, () => true);
    assert.ok(refused, `a connection beyond maxConnections=${MAX_CONNECTIONS} was served`);
    // Nobody sends a byte on the idle ones: the idle timeout closes every one of them.
    await Promise.all(idle.map((c) => c.closed));
    assert.equal(await healthz(), 200);
  });
});

describe('the guest\'s /init', () => {
  test('a restored guest takes a fresh init secret: the old one opens nothing afterwards', { timeout: 60_000 }, async () => {
    const g = await startGuest();
    try {
      const init = (secret: string, body: unknown) => fetch(`${g.url}/init`, {
        method: 'POST', headers: { 'x-agentbox-init-secret': secret, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      const fresh = 'fresh-secret-0123456789abcdef';
      assert.equal((await init(g.initSecret, { initSecret: fresh })).status, 204);
      assert.equal((await init(g.initSecret, { envVars: { X: '1' } })).status, 401, 'the source\'s secret no longer works');
      assert.equal((await init(`${fresh.slice(0, -1)}x`, {})).status, 401);
      assert.equal((await init(fresh, {})).status, 204);
    } finally {
      await g.stop();
    }
  });
});
