// Port traffic through the server (HTTP and WebSocket, by path and by host) with the FAKE engine
// (test/support/fake-engine.ts), whose sandbox address is loopback: the "port inside the
// sandbox" is a real server this test runs on 127.0.0.1.
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
  app = await startEchoApp('auth', 'authorization');
  port = app.port;
});
after(async () => {
  app.close();
  await s.stop();
});

const create = async (body: Record<string, unknown> = {}) =>
  (await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', ...body } })).json()) as { id: string };

test('HTTP by path keeps method, path, query and body and never forwards the API key', async () => {
  const sb = await create();
  const res = await s.api(`/v1/sandboxes/${sb.id}/ports/${port}/some/path?q=1`, { method: 'POST', body: 'payload' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { method: 'POST', url: '/some/path?q=1', body: 'payload', auth: null });
  const anon = await fetchAny(`${s.server.url}/v1/sandboxes/${sb.id}/ports/${port}/`);
  assert.equal(anon.status, 401);
});

test('HTTP by host name <port>-<id>.<domain>', async () => {
  const sb = await create();
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.server.port, path: '/x?y=2', headers: { Host: `${port}-${sb.id}.sbx.test` } }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(JSON.parse(body).url, '/x?y=2');
});

test('WebSocket by path and by host', async () => {
  const sb = await create();
  for (const [url, headers] of [
    [`${s.server.url.replace('http', 'ws')}/v1/sandboxes/${sb.id}/ports/${port}/ws`, { Authorization: `Bearer ${s.server.adminKey}` }],
    [`${s.server.url.replace('http', 'ws')}/ws`, { Host: `${port}-${sb.id}.sbx.test` }],
  ] as const) {
    assert.equal(await wsRoundTrip(url, headers, 'hi'), 'echo:hi');
  }
});

test('traffic resumes a paused sandbox created with autoResume; others get 409', async () => {
  const auto = await create({ onTimeout: 'pause', autoResume: true });
  const manual = await create({ onTimeout: 'pause' });
  for (const sb of [auto, manual]) await s.api(`/v1/sandboxes/${sb.id}/pause`, { method: 'POST' });
  assert.equal((await s.api(`/v1/sandboxes/${auto.id}/ports/${port}/`)).status, 200);
  assert.equal((await (await s.api(`/v1/sandboxes/${auto.id}`)).json()).state, 'running');
  const res = await s.api(`/v1/sandboxes/${manual.id}/ports/${port}/`);
  assert.equal(res.status, 409);
  assert.equal((await res.json()).code, 'conflict');
});

test('unknown sandbox, closed port and the guest port by host', async () => {
  const sb = await create();
  assert.equal((await s.api(`/v1/sandboxes/zzzzzzzzzzzzzzzzzzzz/ports/${port}/`)).status, 404);
  const closed = await s.api(`/v1/sandboxes/${sb.id}/ports/1/`);
  assert.equal(closed.status, 503);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.server.port, path: '/', headers: { Host: `49983-${sb.id}.sbx.test` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 403);
});
