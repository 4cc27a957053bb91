// Sandbox traffic through `/e2b/sandbox` and the `api.<domain>` host, with the FAKE engine
// (test/support/fake-engine.ts), whose sandbox address is loopback: the "port inside the
// sandbox" is a real HTTP + WebSocket server this test runs on 127.0.0.1. The guest port itself
// is exercised by conformance.test.ts on the real engine.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { wsRoundTrip } from '../support/ws.ts';
import { startEchoApp, type EchoApp } from '../support/echo-app.ts';
import { fetchAny, startFakeServer, type FakeServer } from '../support/fake-server.ts';

let s: FakeServer;
let app: EchoApp;
let port: number;

before(async () => {
  s = await startFakeServer({ domain: 'sbx.test' });
  app = await startEchoApp('apiKey', 'x-api-key');
  port = app.port;
});
after(async () => {
  app.close();
  await s.stop();
});

async function create(body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetchAny(`${s.server.url}/e2b/sandboxes`, {
    method: 'POST', headers: { 'X-API-KEY': s.server.adminKey, 'Content-Type': 'application/json' }, body: JSON.stringify({ templateID: 'base', ...body }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).sandboxID as string;
}

const viaHeaders = (id: string, path: string, init: RequestInit = {}) =>
  fetchAny(`${s.server.url}/e2b/sandbox${path}`, { ...init, headers: { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': String(port), 'X-API-KEY': 'not-for-the-sandbox', ...init.headers } });

test('HTTP to a user port by routing headers keeps method, path, query and body; no API key passes', async () => {
  const id = await create();
  const res = await viaHeaders(id, '/some/path?q=1', { method: 'POST', body: 'payload' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { method: 'POST', url: '/some/path?q=1', body: 'payload', apiKey: null });
});

test('WebSocket to a user port by routing headers', async () => {
  const id = await create();
  const reply = await wsRoundTrip(`${s.server.url.replace('http', 'ws')}/e2b/sandbox/ws`, { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': String(port) }, 'hi');
  assert.equal(reply, 'echo:hi');
});

test('paused: 502 without autoResume, resumed transparently with it', async () => {
  const manual = await create();
  const auto = await create({ autoPause: true, autoResume: { enabled: true } });
  for (const id of [manual, auto]) assert.equal((await s.api(`/v1/sandboxes/${id}/pause`, { method: 'POST' })).status, 200);
  const gone = await viaHeaders(manual, '/');
  assert.equal(gone.status, 502);
  assert.equal((await gone.json()).sandboxId, manual);
  assert.equal((await viaHeaders(auto, '/')).status, 200);
  assert.equal((await (await s.api(`/v1/sandboxes/${auto}`)).json()).state, 'running');
});

test('the control API answers on api.<domain> too', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.server.port, path: '/v2/sandboxes', headers: { Host: 'api.sbx.test', 'X-API-KEY': s.server.adminKey } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
});
