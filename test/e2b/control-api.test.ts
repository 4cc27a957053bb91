// The E2B control API's wire contract (E2B's published spec, github.com/e2b-dev/E2B `spec/`: status codes, `{code,
// message}` bodies, the 2.0–2.5 connect sequence, list filters and pagination, 502 JSON from the
// sandbox address). Runs the real server, SQLite and HTTP over the FAKE engine (test/support),
// because these are server decisions; test/e2b/conformance.test.ts drives the same API with the
// real SDKs on the real engine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fetchAny, startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { waitFor } from '../support/wait.ts';

let s: FakeServer;
before(async () => { s = await startFakeServer(); });
after(async () => { await s.stop(); });

function e2b(path: string, init: { method?: string; json?: unknown; key?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers['X-API-KEY'] = init.key ?? s.server.adminKey;
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  return fetchAny(`${s.server.url}/e2b${path}`, { method: init.method ?? 'GET', headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
}

async function create(body: Record<string, unknown> = {}, path = '/sandboxes') {
  const res = await e2b(path, { method: 'POST', json: { templateID: 'base', timeout: 60, secure: true, allow_internet_access: true, ...body } });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json() as Promise<Record<string, unknown>>;
}

test('create (v1 and v2) returns the Sandbox object with a minted token and a semver envdVersion', async () => {
  for (const path of ['/sandboxes', '/v2/sandboxes']) {
    const sbx = await create({ metadata: { a: '1' }, envVars: { X: 'y' } }, path);
    assert.match(String(sbx.sandboxID), /^[a-z0-9]{20}$/);
    assert.equal(sbx.templateID, 'base');
    assert.equal(typeof sbx.clientID, 'string');
    assert.equal(sbx.envdAccessToken, 'fake-token');
    assert.match(String(sbx.envdVersion), /^\d+\.\d+\.\d+$/);
    assert.equal(sbx.domain, null);
  }
});

test('autoPauseMemory: false pauses on timeout keeping files only; the E2B lifecycle view still says pause', async () => {
  const sbx = await create({ autoPause: true, autoPauseMemory: false, timeout: 1 });
  const id = String(sbx.sandboxID);
  assert.deepEqual((await (await e2b(`/sandboxes/${id}`)).json()).lifecycle, { autoResume: false, onTimeout: 'pause' });
  await waitFor('the timeout to pause without memory', () => s.engine.calls.includes(`pause ${id} memory=false`), 5000);
});

test('v2 connect with memory: false resumes a paused sandbox from its files', async () => {
  const id = String((await create({}, '/v2/sandboxes')).sandboxID);
  assert.equal((await e2b(`/sandboxes/${id}/pause`, { method: 'POST', json: {} })).status, 204);
  assert.equal((await e2b(`/v2/sandboxes/${id}/connect`, { method: 'POST', json: { timeout: 30, memory: false } })).status, 201);
  assert.ok(s.engine.calls.includes(`resume ${id} memory=false`));
});

test('errors carry {code, message} with the HTTP status as code', async () => {
  const unauth = await e2b('/v2/sandboxes', { key: null });
  assert.equal(unauth.status, 401);
  assert.equal((await unauth.json()).code, 401);
  const bad = await e2b('/sandboxes', { method: 'POST', json: { templateID: 'base', timeout: 90_000 } });
  assert.equal(bad.status, 400);
  const body = await bad.json();
  assert.equal(body.code, 400);
  assert.match(body.message, /cannot be greater than 24 hours/);
  const missing = await e2b('/sandboxes/zzzzzzzzzzzzzzzzzzzz', { method: 'DELETE' });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).code, 404);
  const unknownTemplate = await e2b('/sandboxes', { method: 'POST', json: { templateID: 'nope' } });
  assert.equal(unknownTemplate.status, 404);
});

test('getInfo, pause (204, then 409), the 2.0–2.5 connect sequence and v1/v2 connect codes', async () => {
  const sbx = await create({ autoPause: true, autoResume: { enabled: true } });
  const id = String(sbx.sandboxID);
  const info = await (await e2b(`/sandboxes/${id}`)).json();
  assert.equal(info.state, 'running');
  assert.deepEqual(info.lifecycle, { autoResume: true, onTimeout: 'pause' });
  for (const k of ['startedAt', 'endAt', 'cpuCount', 'memoryMB', 'diskSizeMB', 'envdVersion', 'clientID']) assert.ok(k in info, k);
  assert.equal((await e2b(`/sandboxes/${id}/connect`, { method: 'POST', json: { timeout: 30 } })).status, 200);
  assert.equal((await e2b(`/sandboxes/${id}/resume`, { method: 'POST', json: { timeout: 30, autoPause: false } })).status, 409);
  assert.equal((await e2b(`/sandboxes/${id}/pause`, { method: 'POST', json: { memory: true } })).status, 204);
  const again = await e2b(`/sandboxes/${id}/pause`, { method: 'POST' });
  assert.equal(again.status, 409);
  assert.equal((await again.json()).code, 409);
  assert.equal((await (await e2b(`/sandboxes/${id}`)).json()).state, 'paused');
  // SDK 2.0–2.5: /timeout fails on a paused sandbox, then /resume (201), then GET.
  assert.equal((await e2b(`/sandboxes/${id}/timeout`, { method: 'POST', json: { timeout: 30 } })).status, 404);
  const resumed = await e2b(`/sandboxes/${id}/resume`, { method: 'POST', json: { timeout: 30, autoPause: false } });
  assert.equal(resumed.status, 201);
  assert.equal((await resumed.json()).envdAccessToken, 'fake-token');
  // The policy chosen at create survives the resume (E2B#875).
  assert.deepEqual((await (await e2b(`/sandboxes/${id}`)).json()).lifecycle, { autoResume: true, onTimeout: 'pause' });
  assert.equal((await e2b(`/sandboxes/${id}/pause`, { method: 'POST' })).status, 204);
  assert.equal((await e2b(`/v2/sandboxes/${id}/connect`, { method: 'POST' })).status, 201);
  assert.equal((await e2b(`/v2/sandboxes/${id}/connect`, { method: 'POST', json: {} })).status, 200);
  assert.equal((await e2b(`/sandboxes/${id}/connect`, { method: 'POST', json: {} })).status, 400, 'v1 connect needs a timeout');
});

test('setTimeout overwrites, connect only extends', async () => {
  const id = String((await create()).sandboxID);
  const endAt = async () => new Date((await (await e2b(`/sandboxes/${id}`)).json()).endAt).getTime();
  assert.equal((await e2b(`/sandboxes/${id}/timeout`, { method: 'POST', json: { timeout: 600 } })).status, 204);
  const long = await endAt();
  assert.ok(Math.abs(long - (Date.now() + 600_000)) < 5000);
  await e2b(`/sandboxes/${id}/connect`, { method: 'POST', json: { timeout: 10 } });
  assert.equal(await endAt(), long, 'connect never shortens');
  await e2b(`/sandboxes/${id}/timeout`, { method: 'POST', json: { timeout: 10 } });
  assert.ok((await endAt()) < long, 'setTimeout shortens');
});

test('list: metadata and state filters, X-Next-Token pagination, legacy list', async () => {
  const tag = `t${Date.now()}`;
  const ids = new Set<string>();
  for (let i = 0; i < 3; i++) ids.add(String((await create({ metadata: { tag, n: String(i) } })).sandboxID));
  const q = (meta: Record<string, string>) => encodeURIComponent(new URLSearchParams(meta).toString());
  const one = await (await e2b(`/v2/sandboxes?metadata=${q({ tag, n: '1' })}`)).json();
  assert.equal(one.length, 1);
  assert.equal(one[0].metadata.n, '1');
  const seen: string[] = [];
  let next: string | null = '';
  for (let page = 0; page < 5 && next !== null; page++) {
    const res = await e2b(`/v2/sandboxes?limit=2&metadata=${q({ tag })}${next ? `&nextToken=${encodeURIComponent(next)}` : ''}`);
    seen.push(...(await res.json()).map((x: { sandboxID: string }) => x.sandboxID));
    next = res.headers.get('x-next-token');
  }
  assert.deepEqual(new Set(seen), ids);
  assert.equal(seen.length, ids.size, 'no sandbox on two pages');
  const asc: string[] = [];
  next = '';
  for (let page = 0; page < 5 && next !== null; page++) {
    const res = await e2b(`/v2/sandboxes?order=asc&limit=2&metadata=${q({ tag })}${next ? `&nextToken=${encodeURIComponent(next)}` : ''}`);
    asc.push(...(await res.json()).map((x: { sandboxID: string }) => x.sandboxID));
    next = res.headers.get('x-next-token');
  }
  assert.deepEqual(asc, [...seen].reverse(), 'order=asc walks oldest first');
  const paused = [...ids][0]!;
  await e2b(`/sandboxes/${paused}/pause`, { method: 'POST' });
  const pausedOnly = await (await e2b(`/v2/sandboxes?state=paused&metadata=${q({ tag })}`)).json();
  assert.deepEqual(pausedOnly.map((x: { sandboxID: string }) => x.sandboxID), [paused]);
  const legacy = await (await e2b('/sandboxes')).json();
  assert.ok(!legacy.some((x: { sandboxID: string }) => x.sandboxID === paused), 'legacy list shows running only');
});

test('metrics, network update and fork', async () => {
  const id = String((await create()).sandboxID);
  const metrics = await (await e2b(`/sandboxes/${id}/metrics`)).json();
  assert.equal(metrics.length, 1);
  for (const k of ['timestamp', 'timestampUnix', 'cpuCount', 'cpuUsedPct', 'memUsed', 'memTotal', 'diskUsed', 'diskTotal']) assert.ok(k in metrics[0], k);
  assert.equal((await e2b(`/sandboxes/${id}/network`, { method: 'PUT', json: { denyOut: ['0.0.0.0/0'], allowOut: ['1.1.1.1'] } })).status, 204);
  const forks = await e2b(`/sandboxes/${id}/fork`, { method: 'POST', json: { count: 2, timeout: 60 } });
  assert.equal(forks.status, 201);
  const list = await forks.json();
  assert.equal(list.length, 2);
  for (const f of list) assert.match(f.sandbox.sandboxID, /^[a-z0-9]{20}$/);
});

test('sandbox address: missing headers 400, unknown sandbox 502 JSON, internal envd routes 404', async () => {
  const at = (path: string, headers: Record<string, string>) => fetchAny(`${s.server.url}/e2b/sandbox${path}`, { method: 'POST', headers });
  const missing = await at('/process.Process/List', { 'E2b-Sandbox-Id': 'abc' });
  assert.equal(missing.status, 400);
  assert.match((await missing.json()).message, /missing header E2b-Sandbox-Port/);
  const gone = await at('/process.Process/List', { 'E2b-Sandbox-Id': 'zzzzzzzzzzzzzzzzzzzz', 'E2b-Sandbox-Port': '49983' });
  assert.equal(gone.status, 502);
  const body = await gone.json();
  assert.equal(body.code, 502);
  assert.equal(body.sandboxId, 'zzzzzzzzzzzzzzzzzzzz');
  assert.match(body.message, /The sandbox was not found/);
  const id = String((await create()).sandboxID);
  const init = await at('/init', { 'E2b-Sandbox-Id': id, 'E2b-Sandbox-Port': '49983' });
  assert.equal(init.status, 404);
  const noToken = await fetchAny(`${s.server.url}/e2b/sandbox/files?path=/x`);
  assert.equal(noToken.status, 400);
});

test('snapshots: empty list, unknown ids are 404, and the fake engine cannot snapshot (501)', async () => {
  const list = await e2b('/snapshots');
  assert.equal(list.status, 200);
  assert.deepEqual(await list.json(), []);
  const del = await e2b('/templates/snap-zzzzzzzzzzzzzzzzzzzz', { method: 'DELETE' });
  assert.equal(del.status, 404);
  assert.equal((await del.json()).code, 404);
  const id = String((await create()).sandboxID);
  const snap = await e2b(`/sandboxes/${id}/snapshots`, { method: 'POST', json: {} });
  assert.equal(snap.status, 501, 'the fake engine has no checkpoints; test/e2b/conformance.test.ts takes real ones');
  assert.equal((await snap.json()).code, 501);
});
