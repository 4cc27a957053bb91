// Lifecycle events and webhooks (issue 15) on a real server with gVisor sandboxes: the events of
// create/update/pause/resume/timeout/kill in order whatever API made the change, tenant
// isolation, the SSE stream resumed with Last-Event-ID, signed webhook deliveries to a receiver
// on loopback (the admin setting allows it) with retries, E2B's route shapes over plain HTTP, and
// delivery after a server SIGKILL between the transition and the POST.
// test-file-timeout: 20 min
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { e2bSignature } from '../../src/server/events/signature.ts';
import { fetchAny, startFakeServer, type AnyResponse } from '../support/fake-server.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { bootServerProcess, killServerProcess, removeServerHome, type ServerProcess } from '../support/server-process.ts';
import { networkIndex } from '../support/test-network.ts';
import { waitFor } from '../support/wait.ts';

interface Delivery { headers: IncomingMessage['headers']; body: string; status: number }

/** A webhook receiver on loopback; `status()` decides each answer (500 to make the server retry). */
async function receiver(status: () => number = () => 200) {
  const got: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const s = status();
      got.push({ headers: req.headers, body, status: s });
      res.writeHead(s).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    /** Accepted deliveries' payloads. */
    accepted: () => got.filter((g) => g.status === 200).map((g) => JSON.parse(g.body) as E2bEvent),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

interface E2bEvent { id: string; type: string; sandboxId: string; sandboxTeamId: string; eventData: Record<string, unknown> | null; [k: string]: unknown }
interface NativeEvent { seq: number; id: string; type: string; sandboxId: string; tenantId: string; template: string; metadata: Record<string, string>; data: Record<string, unknown> }

let s: RealServer | undefined;
let skip: string | false = false;

before(async () => {
  const r = await startRealServer('events', { runtime: 'gvisor', webhooks: { allowPrivateTargets: true, tuning: { retryBaseMs: 100 } } });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
});
after(async () => { await s?.stop(); });

const e2b = (path: string, key: string, init: RequestInit & { json?: unknown } = {}): Promise<AnyResponse> => {
  const { json, ...rest } = init;
  return fetchAny(`${s!.server.url}/e2b${path}`, {
    ...rest, headers: { 'X-API-Key': key, ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
};

const eventsOf = async (id: string, key?: string): Promise<NativeEvent[]> =>
  (await (await s!.api(`/v1/events?sandboxId=${id}`, key ? { key } : {})).json()).events;

const typesOf = (events: { type: string }[]) => events.map((e) => e.type.replace('sandbox.lifecycle.', ''));

async function createSandbox(body: Record<string, unknown> = {}, key?: string): Promise<string> {
  const r = await s!.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', ...body }, ...(key ? { key } : {}) });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()).id;
}

describe('lifecycle events on the real engine (gVisor)', () => {
  test('create, timeout change, pause, resume and kill are events in order, with template, metadata and reasons', async (t) => {
    if (skip) return t.skip(skip);
    const id = await createSandbox({ metadata: { owner: 'ada' } });
    assert.equal((await s!.api(`/v1/sandboxes/${id}/timeout`, { method: 'POST', json: { timeoutSeconds: 900 } })).status, 200);
    assert.equal((await s!.api(`/v1/sandboxes/${id}/pause`, { method: 'POST' })).status, 200);
    assert.equal((await s!.api(`/v1/sandboxes/${id}/resume`, { method: 'POST' })).status, 200);
    assert.equal((await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE' })).status, 204);
    const events = await eventsOf(id);
    assert.deepEqual(typesOf(events), ['created', 'updated', 'paused', 'resumed', 'killed']);
    assert.ok(events.every((e) => e.template === 'busybox' && e.metadata.owner === 'ada' && e.sandboxId === id), JSON.stringify(events));
    assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq));
    assert.equal(events[2]!.data.reason, 'requested');
    assert.equal(events[4]!.data.reason, 'killed');
    assert.ok(typeof events[1]!.data.expiresAt === 'string' && Date.parse(events[1]!.data.expiresAt as string) > Date.now() + 800_000);
    assert.deepEqual(Object.keys(events[4]!.data.execution as object).sort(), ['cpu', 'memoryMiB', 'runtimeMs', 'startedAt']);
  });

  test('a timeout is an event too: killed with reason expired (paused with reason timeout for onTimeout pause)', async (t) => {
    if (skip) return t.skip(skip);
    const killed = await createSandbox({ timeoutSeconds: 1 });
    const paused = await createSandbox({ timeoutSeconds: 1, onTimeout: 'pause' });
    const ended = await waitFor('the timeouts to act', async () => {
      const [k, p] = [await eventsOf(killed), await eventsOf(paused)];
      return k.length === 2 && p.length === 2 ? { k, p } : undefined;
    }, 60_000, 200);
    assert.deepEqual(typesOf(ended.k), ['created', 'killed']);
    assert.equal(ended.k[1]!.data.reason, 'expired');
    assert.deepEqual(typesOf(ended.p), ['created', 'paused']);
    assert.equal(ended.p[1]!.data.reason, 'timeout');
    await s!.api(`/v1/sandboxes/${paused}`, { method: 'DELETE' });
  });

  test("a sandbox made through E2B's API has the same events, and E2B's routes answer E2B's shapes", async (t) => {
    if (skip) return t.skip(skip);
    const key = s!.server.adminKey;
    const created = await e2b('/v2/sandboxes', key, { method: 'POST', json: { templateID: 'busybox', timeout: 300, metadata: { via: 'e2b' } } });
    assert.equal(created.status, 201);
    const id = (await created.json()).sandboxID as string;
    assert.equal((await e2b(`/sandboxes/${id}/pause`, key, { method: 'POST' })).status, 204);
    assert.equal((await e2b(`/v2/sandboxes/${id}/connect`, key, { method: 'POST', json: { timeout: 300 } })).status, 201);
    assert.equal((await e2b(`/sandboxes/${id}`, key, { method: 'DELETE' })).status, 204);

    // Newest first by default; orderAsc=true oldest first (E2B's documented query).
    const desc = await (await e2b(`/events/sandboxes/${id}`, key)).json() as E2bEvent[];
    assert.deepEqual(typesOf(desc), ['killed', 'resumed', 'paused', 'created']);
    const asc = await (await e2b(`/events/sandboxes/${id}?orderAsc=true`, key)).json() as E2bEvent[];
    assert.deepEqual(typesOf(asc), ['created', 'paused', 'resumed', 'killed']);
    // Every field of E2B's documented event object, and nothing missing.
    assert.deepEqual(Object.keys(asc[0]!).sort(), ['eventCategory', 'eventData', 'eventLabel', 'id', 'sandboxBuildId', 'sandboxExecutionId', 'sandboxId',
      'sandboxTeamId', 'sandboxTemplateId', 'timestamp', 'type', 'version']);
    assert.deepEqual([asc[0]!.version, asc[0]!.eventLabel, asc[0]!.sandboxTemplateId, asc[3]!.eventLabel], ['v1', 'create', 'busybox', 'kill']);
    assert.deepEqual((asc[0]!.eventData as { sandbox_metadata: unknown }).sandbox_metadata, { via: 'e2b' });
    assert.deepEqual(Object.keys((asc[3]!.eventData as { execution: object }).execution).sort(), ['execution_time', 'memory_mb', 'started_at', 'vcpu_count']);
    assert.ok(!Number.isNaN(Date.parse(asc[0]!.timestamp as string)));
    // offset, limit and types.
    assert.deepEqual(typesOf(await (await e2b(`/events/sandboxes/${id}?orderAsc=true&offset=1&limit=2`, key)).json()), ['paused', 'resumed']);
    assert.deepEqual(typesOf(await (await e2b(`/events/sandboxes/${id}?types=sandbox.lifecycle.created&types=sandbox.lifecycle.killed`, key)).json()), ['killed', 'created']);
    const all = await (await e2b('/events/sandboxes?limit=100', key)).json() as E2bEvent[];
    assert.ok(all.some((e) => e.sandboxId === id));
    assert.equal((await e2b('/events/sandboxes?limit=10', key)).status, 200);
    // Bad input: E2B's 400 with {code, message}.
    const bad = await e2b('/events/sandboxes?limit=101', key);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { code: 400, message: 'limit must be an integer from 1 to 100' });
    assert.equal((await e2b('/events/sandboxes?types=sandbox.lifecycle.exploded', key)).status, 400);
  });

  test('a tenant sees only its own events; an admin sees every tenant’s', async (t) => {
    if (skip) return t.skip(skip);
    const other = (await (await s!.api('/v1/keys', { method: 'POST', json: { tenant: 'events-other' } })).json()).key as string;
    const mine = await createSandbox();
    const theirs = await createSandbox({}, other);
    assert.deepEqual(await eventsOf(mine, other), []);
    assert.deepEqual(typesOf(await eventsOf(theirs, other)), ['created']);
    const listed = (await (await s!.api('/v1/events?limit=1000', { key: other })).json()).events as NativeEvent[];
    assert.ok(listed.length > 0 && listed.every((e) => e.sandboxId === theirs), JSON.stringify(listed));
    assert.deepEqual(await (await e2b(`/events/sandboxes/${mine}`, other)).json(), []);
    assert.ok((await (await e2b('/events/sandboxes?limit=100', other)).json() as E2bEvent[]).every((e) => e.sandboxId === theirs));
    // The admin's key reads across tenants.
    assert.deepEqual(typesOf(await eventsOf(theirs)), ['created']);
    // Webhooks are per tenant too: another tenant's is not found.
    const hook = await e2b('/events/webhooks', other, { method: 'POST', json: { url: 'http://127.0.0.1:9/x', events: ['sandbox.lifecycle.created'], signatureSecret: 'their-secret' } });
    assert.equal(hook.status, 201);
    const hookId = (await hook.json()).id as string;
    assert.equal((await e2b(`/events/webhooks/${hookId}`, s!.server.adminKey)).status, 404);
    assert.equal((await e2b(`/events/webhooks/${hookId}`, s!.server.adminKey, { method: 'DELETE' })).status, 404);
    assert.equal((await e2b(`/events/webhooks/${hookId}`, other, { method: 'DELETE' })).status, 204);
    for (const id of [mine, theirs]) await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE', ...(id === theirs ? { key: other } : {}) });
  });

  test('the SSE stream sends stored then live events with id: seq, and Last-Event-ID resumes without loss or repeats', async (t) => {
    if (skip) return t.skip(skip);
    const first = await createSandbox();
    const stream = sse(`${s!.server.url}/v1/events?types=sandbox.lifecycle.created,sandbox.lifecycle.killed`, s!.server.adminKey);
    try {
      const backlog = await stream.until((evs) => evs.some((e) => e.data.sandboxId === first));
      const second = await createSandbox();
      const live = await stream.until((evs) => evs.some((e) => e.data.sandboxId === second));
      assert.ok(live.every((e) => e.id === String(e.data.seq)), 'each event carries its seq as the SSE id');
      assert.ok(live.every((e) => ['sandbox.lifecycle.created', 'sandbox.lifecycle.killed'].includes(e.data.type)));
      assert.ok(backlog.length >= 1);
      stream.close();
      const lastSeen = live[live.length - 1]!.id;
      // Events happen while no one listens; the resumed stream starts right after the last id seen.
      await s!.api(`/v1/sandboxes/${first}`, { method: 'DELETE' });
      await s!.api(`/v1/sandboxes/${second}`, { method: 'DELETE' });
      const resumed = sse(`${s!.server.url}/v1/events?types=sandbox.lifecycle.created,sandbox.lifecycle.killed`, s!.server.adminKey, lastSeen);
      try {
        const after = await resumed.until((evs) => evs.filter((e) => e.data.type === 'sandbox.lifecycle.killed' && [first, second].includes(e.data.sandboxId)).length === 2);
        assert.ok(after.every((e) => Number(e.id) > Number(lastSeen)), 'nothing at or before Last-Event-ID is sent again');
        assert.deepEqual(after.filter((e) => [first, second].includes(e.data.sandboxId)).map((e) => [e.data.sandboxId, e.data.type]),
          [[first, 'sandbox.lifecycle.killed'], [second, 'sandbox.lifecycle.killed']]);
      } finally { resumed.close(); }
    } finally { stream.close(); }
  });

  test('a registered webhook gets every wanted event signed as E2B signs, retried after the receiver fails', async (t) => {
    if (skip) return t.skip(skip);
    let failures = 2;
    const r = await receiver(() => (failures-- > 0 ? 500 : 200));
    const key = s!.server.adminKey;
    try {
      const created = await e2b('/events/webhooks', key, { method: 'POST', json: { name: 'ci', url: r.url, enabled: true, events: ['sandbox.lifecycle.created', 'sandbox.lifecycle.killed'], signatureSecret: 'shh-its-a-secret' } });
      assert.equal(created.status, 201);
      const hook = await created.json();
      assert.deepEqual(Object.keys(hook).sort(), ['createdAt', 'enabled', 'events', 'id', 'name', 'teamId', 'url']);
      assert.deepEqual((await (await e2b('/events/webhooks', key)).json()).map((w: { id: string }) => w.id), [hook.id]);
      assert.equal((await (await e2b(`/events/webhooks/${hook.id}`, key)).json()).url, r.url);
      const id = await createSandbox();
      await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE' });
      const got = await waitFor('the created and killed deliveries', () => {
        const mine = r.accepted().filter((e) => e.sandboxId === id);
        return mine.length === 2 ? mine : undefined;
      }, 60_000, 100);
      assert.deepEqual(typesOf(got), ['created', 'killed']);
      assert.ok(r.got.filter((g) => g.status === 500).length === 2, 'the first two attempts failed and were retried');
      for (const g of r.got) {
        // What E2B's docs tell a receiver to do: sha256 of secret + raw body, base64 without padding.
        assert.equal(g.headers['e2b-signature'], e2bSignature('shh-its-a-secret', g.body));
        assert.equal(g.headers['e2b-webhook-id'], hook.id);
        assert.equal(g.headers['e2b-signature-version'], 'v1');
        assert.ok(g.headers['e2b-delivery-id']);
      }
      // PATCH replaces the given fields; a disabled webhook gets nothing.
      const patched = await e2b(`/events/webhooks/${hook.id}`, key, { method: 'PATCH', json: { enabled: false } });
      assert.equal(patched.status, 200);
      assert.deepEqual([(await patched.json()).enabled, hook.events.length], [false, 2]);
      const before = r.got.length;
      const quiet = await createSandbox();
      await s!.api(`/v1/sandboxes/${quiet}`, { method: 'DELETE' });
      assert.equal(typesOf(await eventsOf(quiet)).length, 2);
      assert.equal(r.got.length, before);
      assert.equal((await e2b(`/events/webhooks/${hook.id}`, key, { method: 'DELETE' })).status, 204);
      assert.equal((await e2b(`/events/webhooks/${hook.id}`, key)).status, 404);
    } finally { await r.close(); }
  });
});

test('webhook URLs to loopback, private or metadata addresses are refused without the admin setting', async () => {
  // The guard does not depend on the engine: a real server over the fake engine is enough here.
  const f = await startFakeServer({ webhooks: { allowPrivateTargets: false } });
  try {
    for (const url of ['http://127.0.0.1:8080/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://10.0.0.5/x']) {
      const r = await fetchAny(`${f.server.url}/e2b/events/webhooks`, {
        method: 'POST', headers: { 'X-API-Key': f.server.adminKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url, events: ['sandbox.lifecycle.created'], signatureSecret: 'a-secret-1' }),
      });
      assert.equal(r.status, 403, url);
      assert.match((await r.json()).message, /loopback, private, link-local or metadata/);
    }
    const bad = await fetchAny(`${f.server.url}/e2b/events/webhooks`, {
      method: 'POST', headers: { 'X-API-Key': f.server.adminKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: 'https://hooks.example.com/x', events: ['sandbox.lifecycle.exploded'], signatureSecret: 'a-secret-1' }),
    });
    assert.equal(bad.status, 400);
  } finally { await f.stop(); }
});

// Under runc, as test/server/e2e-crash.test.ts: what is staged is the server's crash, and
// removeServerHome cleans up after runc sandboxes only.
test('a delivery acknowledged before a server SIGKILL is delivered after the restart', { timeout: 600_000 }, async () => {
  const NET = networkIndex('server-events-crash');
  const home = mkdtempSync(join(tmpdir(), 'agentbox-events-crash-'));
  let up = false;
  const r = await receiver(() => (up ? 200 : 503));
  let srv: ServerProcess | undefined;
  const prev = process.env.AGENTBOX_WEBHOOK_ALLOW_PRIVATE;
  process.env.AGENTBOX_WEBHOOK_ALLOW_PRIVATE = '1';
  try {
    srv = await bootServerProcess(home, NET);
    const h = { Authorization: `Bearer ${srv.key}`, 'Content-Type': 'application/json' };
    const hook = await fetchAny(`${srv.url}/e2b/events/webhooks`, { method: 'POST', headers: { 'X-API-Key': srv.key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: r.url, events: ['sandbox.lifecycle.created'], signatureSecret: 'crash-secret' }) });
    assert.equal(hook.status, 201);
    const created = await fetchAny(`${srv.url}/v1/sandboxes`, { method: 'POST', headers: h, body: JSON.stringify({ template: 'busybox', timeoutSeconds: 3600 }) });
    assert.equal(created.status, 201);
    const id = (await created.json()).id as string;
    // The transition happened and its delivery was attempted (and refused by the receiver): the
    // server dies with the delivery still owed.
    await waitFor('a first, failed delivery attempt', () => r.got.some((g) => JSON.parse(g.body).sandboxId === id), 60_000, 50);
    await killServerProcess(srv);
    up = true;
    srv = await bootServerProcess(home, NET);
    const delivered = await waitFor('the delivery after the restart', () => r.accepted().find((e) => e.sandboxId === id), 120_000, 100);
    assert.equal(delivered.type, 'sandbox.lifecycle.created');
    const g = r.got.find((x) => x.status === 200 && JSON.parse(x.body).sandboxId === id)!;
    assert.equal(g.headers['e2b-signature'], e2bSignature('crash-secret', g.body));
    await fetchAny(`${srv.url}/v1/sandboxes/${id}`, { method: 'DELETE', headers: h });
  } finally {
    if (prev === undefined) delete process.env.AGENTBOX_WEBHOOK_ALLOW_PRIVATE; else process.env.AGENTBOX_WEBHOOK_ALLOW_PRIVATE = prev;
    await killServerProcess(srv);
    await removeServerHome(home, NET);
    await r.close();
  }
});

interface SseEvent { id: string; data: NativeEvent }

/** A Server-Sent Events reader over node:http (fetch gives no way to read a stream piecewise and close it cleanly). */
function sse(url: string, key: string, lastEventId?: string) {
  const events: SseEvent[] = [];
  let buf = '';
  const req = request(url, { headers: { Authorization: `Bearer ${key}`, Accept: 'text/event-stream', ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } }, (res) => {
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) as NativeEvent });
      }
    });
  });
  req.on('error', () => {});
  req.end();
  return {
    /** Resolves with every event so far once `done` holds for them. */
    until: (done: (evs: SseEvent[]) => boolean) => waitFor('the SSE events', () => (done(events) ? [...events] : undefined), 60_000, 50),
    close: () => req.destroy(),
  };
}
