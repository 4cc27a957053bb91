// Native API over real SQLite + real HTTP, with the FAKE engine (test/support/fake-engine.ts):
// these tests check server logic (auth, tenants, validation, records, pagination, files, exec
// streaming), not isolation. The e2e*.test.ts files repeat the essentials on the real engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_EXEC_STDIN } from '../../src/api/native.ts';
import { fetchAny, startFakeServer, type FakeServer } from '../support/fake-server.ts';

let s: FakeServer;
let keyA: string;
let keyB: string;

before(async () => {
  s = await startFakeServer();
  keyA = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'alpha', name: 'a' } })).json()).key;
  keyB = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'beta' } })).json()).key;
});
after(() => s.stop());

const create = async (key: string, body: Record<string, unknown> = {}) => {
  const res = await s.api('/v1/sandboxes', { method: 'POST', key, json: { template: 'busybox', ...body } });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; state: string; metadata: Record<string, string>; expiresAt?: string };
};

describe('auth', () => {
  test('missing, malformed and revoked keys are 401 with a code', async () => {
    for (const headers of [{}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic x' }] as Record<string, string>[]) {
      const res = await fetchAny(`${s.server.url}/v1/sandboxes`, { headers });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).code, 'unauthenticated');
    }
    const k = await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'gamma' } })).json();
    assert.equal((await s.api('/v1/sandboxes', { key: k.key })).status, 200);
    assert.equal((await s.api(`/v1/keys/${k.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await s.api('/v1/sandboxes', { key: k.key })).status, 401);
  });

  test('admin routes refuse tenant keys', async () => {
    for (const [method, path] of [['GET', '/v1/keys'], ['POST', '/v1/keys'], ['GET', '/v1/tenants'], ['POST', '/v1/tenants']] as const) {
      const res = await s.api(path, { method, key: keyA, ...(method === 'POST' ? { json: { name: 'x' } } : {}) });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal((await res.json()).code, 'permission_denied');
    }
    const tenants = await (await s.api('/v1/tenants')).json();
    assert.deepEqual(tenants.tenants.map((t: { name: string }) => t.name).sort(), ['alpha', 'beta', 'default', 'gamma']);
    const keys = await (await s.api('/v1/keys')).json();
    assert.ok(keys.keys.every((k: Record<string, unknown>) => !('key' in k) && typeof k.prefix === 'string'));
  });

  test('the X-API-Key header works like a bearer key (E2B clients)', async () => {
    const res = await fetchAny(`${s.server.url}/v1/sandboxes`, { headers: { 'X-API-Key': keyA } });
    assert.equal(res.status, 200);
  });
});

/** `expiresAt` is `seconds` after the moment the server handled the request (between t0 and t1). */
function assertExpiresIn(expiresAt: string | undefined, seconds: number, t0: number, t1: number, what: string): void {
  const at = Date.parse(expiresAt ?? '');
  // expiresAt is an ISO string with millisecond precision.
  assert.ok(at >= t0 + seconds * 1000 && at <= t1 + seconds * 1000, `${what}: expiresAt ${expiresAt} is not ${seconds} s after the request (${new Date(t0).toISOString()} … ${new Date(t1).toISOString()})`);
}

describe('sandboxes', () => {
  test('create, get, list, kill', async () => {
    const t0 = Date.now();
    const sb = await create(keyA, { metadata: { owner: 'me' }, env: { A: '1' } });
    const t1 = Date.now();
    assert.match(sb.id, /^[a-z0-9]{20}$/);
    assert.equal(sb.state, 'running');
    assert.deepEqual(sb.metadata, { owner: 'me' });
    assertExpiresIn(sb.expiresAt, 300, t0, t1, 'the default timeout is 300 s');
    const got = await (await s.api(`/v1/sandboxes/${sb.id}`, { key: keyA })).json();
    assert.equal(got.id, sb.id);
    assert.equal((await s.api(`/v1/sandboxes/${sb.id}`, { method: 'DELETE', key: keyA })).status, 204);
    // Its owner is told it was killed, and when (server/ended-store.ts).
    const gone = await s.api(`/v1/sandboxes/${sb.id}`, { key: keyA });
    assert.equal(gone.status, 410);
    const body = await gone.json();
    assert.deepEqual({ code: body.code, sandbox: body.details.sandbox, reason: body.details.reason }, { code: 'sandbox_ended', sandbox: sb.id, reason: 'killed' });
    assert.throws(() => s.engine.get(sb.id), /does not exist/);
  });

  test('tenant isolation: B can neither see nor touch A\'s sandbox, live or ended', async () => {
    const sb = await create(keyA);
    const bIsRefused = async () => {
      for (const [method, path, json] of [
        ['GET', `/v1/sandboxes/${sb.id}`], ['DELETE', `/v1/sandboxes/${sb.id}`], ['POST', `/v1/sandboxes/${sb.id}/pause`],
        ['POST', `/v1/sandboxes/${sb.id}/timeout`, { timeoutSeconds: 5 }], ['POST', `/v1/sandboxes/${sb.id}/exec`, { cmd: 'true' }],
        ['GET', `/v1/sandboxes/${sb.id}/files?path=/x`], ['GET', `/v1/sandboxes/${sb.id}/ports/8080/`],
        ['GET', `/v1/sandboxes/${sb.id}/logs`], ['GET', `/v1/sandboxes/${sb.id}/usage`],
      ] as const) {
        const res = await s.api(path, { method, key: keyB, ...(json ? { json } : {}) });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal((await res.json()).code, 'not_found');
      }
    };
    await bIsRefused();
    const listB = await (await s.api('/v1/sandboxes', { key: keyB })).json();
    assert.ok(!listB.sandboxes.some((x: { id: string }) => x.id === sb.id));
    assert.equal((await (await s.api(`/v1/sandboxes/${sb.id}`, { key: keyA })).json()).state, 'running');
    // Once A's sandbox ended, B still learns nothing: the same not_found as for an unknown id.
    assert.equal((await s.api(`/v1/sandboxes/${sb.id}`, { method: 'DELETE', key: keyA })).status, 204);
    await bIsRefused();
  });

  test('bad input gets a 4xx with a code and changes nothing', async () => {
    const before = s.engine.list().length;
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/sandboxes', { template: 42 }],
      ['POST', '/v1/sandboxes', { template: 'no-such-template' }],
      ['POST', '/v1/sandboxes', { template: 'busybox', timeoutSeconds: -1 }],
      ['POST', '/v1/sandboxes', { template: 'busybox', timeoutSeconds: 1e9 }],
      ['POST', '/v1/sandboxes', { template: 'busybox', metadata: { k: 'v'.repeat(5000) } }],
      ['POST', '/v1/sandboxes', { template: 'busybox', env: 'A=1' }],
      ['POST', '/v1/sandboxes', { template: 'busybox', unknownField: 1 }],
      ['POST', '/v1/sandboxes', { template: 'busybox', runtime: 'docker' }],
      ['POST', '/v1/sandboxes', { template: 'busybox', onTimeout: 'kill', autoResume: true }],
      ['POST', '/v1/sandboxes', { template: '../etc' }],
      ['GET', '/v1/sandboxes?limit=0', undefined],
      ['GET', '/v1/sandboxes?state=bogus', undefined],
      ['GET', '/v1/sandboxes?nextToken=garbage', undefined],
      ['PUT', '/v1/pools/busybox', { size: -1 }],
      ['PUT', '/v1/pools/nope', { size: 1 }],
      ['POST', '/v1/keys', { admin: 'yes' }],
    ];
    for (const [method, path, json] of cases) {
      const res = await s.api(path, { method, key: method === 'POST' && path === '/v1/keys' ? undefined : keyA, ...(json !== undefined ? { json } : {}) });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} ${JSON.stringify(json)} → ${res.status}`);
      const body = await res.json();
      assert.equal(typeof body.code, 'string');
      assert.equal(typeof body.message, 'string');
    }
    const raw = await fetchAny(`${s.server.url}/v1/sandboxes`, { method: 'POST', headers: { Authorization: `Bearer ${keyA}` }, body: '{not json' });
    assert.equal(raw.status, 400);
    assert.equal(s.engine.list().length, before);
  });

  test('list filters by metadata and state, and paginates', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await create(keyB, { metadata: { batch: 'p', i: String(i) } }));
    await s.api(`/v1/sandboxes/${made[0]!.id}/pause`, { method: 'POST', key: keyB });
    const q = encodeURIComponent('batch=p');
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await (await s.api(`/v1/sandboxes?metadata=${q}&limit=2${token ? `&nextToken=${token}` : ''}`, { key: keyB })).json();
      seen.push(...res.sandboxes.map((x: { id: string }) => x.id));
      token = res.nextToken;
      if (!token) break;
    }
    assert.deepEqual(seen.sort(), made.map((m) => m.id).sort());
    const one = await (await s.api(`/v1/sandboxes?metadata=${encodeURIComponent('batch=p&i=3')}`, { key: keyB })).json();
    assert.deepEqual(one.sandboxes.map((x: { id: string }) => x.id), [made[3]!.id]);
    const paused = await (await s.api('/v1/sandboxes?state=paused', { key: keyB })).json();
    assert.deepEqual(paused.sandboxes.map((x: { id: string }) => x.id), [made[0]!.id]);
  });

  test('timeout, pause and resume', async () => {
    const sb = await create(keyA, { timeoutSeconds: 60, onTimeout: 'pause', autoResume: true });
    let t0 = Date.now();
    const t = await (await s.api(`/v1/sandboxes/${sb.id}/timeout`, { method: 'POST', key: keyA, json: { timeoutSeconds: 600 } })).json();
    assertExpiresIn(t.expiresAt, 600, t0, Date.now(), 'setTimeout sets the new timeout');
    const p = await (await s.api(`/v1/sandboxes/${sb.id}/pause`, { method: 'POST', key: keyA })).json();
    assert.equal(p.state, 'paused');
    assert.equal(p.expiresAt, undefined);
    const again = await s.api(`/v1/sandboxes/${sb.id}/pause`, { method: 'POST', key: keyA });
    assert.equal(again.status, 409);
    const ex = await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json: { cmd: 'true' } });
    assert.equal(ex.status, 409);
    t0 = Date.now();
    const r = await (await s.api(`/v1/sandboxes/${sb.id}/resume`, { method: 'POST', key: keyA })).json();
    assert.equal(r.state, 'running');
    assertExpiresIn(r.expiresAt, 600, t0, Date.now(), 'resume restarts the timer with the last timeout');
  });

  test('fork copies the sandbox', async () => {
    const sb = await create(keyA);
    await s.api(`/v1/sandboxes/${sb.id}/files?path=/f.txt`, { method: 'PUT', key: keyA, body: 'forked' });
    const res = await s.api(`/v1/sandboxes/${sb.id}/fork`, { method: 'POST', key: keyA, json: {} });
    assert.equal(res.status, 201);
    const f = await res.json();
    assert.notEqual(f.id, sb.id);
    assert.equal(await (await s.api(`/v1/sandboxes/${f.id}/files?path=/f.txt`, { key: keyA })).text(), 'forked');
  });
});

describe('exec', () => {
  test('JSON result, argv, env, stdin and exit code', async () => {
    const sb = await create(keyA, { env: { FROM_CREATE: 'c' } });
    const r = await (await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json: { cmd: 'echo $FROM_CREATE $X; cat; echo err >&2; exit 3', env: { X: 'x' }, stdin: 'in' } })).json();
    assert.deepEqual(r, { exitCode: 3, stdout: 'c x\nin', stderr: 'err\n' });
    const argv = await (await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json: { cmd: ['printf', '%s|', 'a b', 'c'] } })).json();
    assert.equal(argv.stdout, 'a b|c|');
  });

  test('NDJSON streams output before the command ends', async () => {
    const sb = await create(keyA);
    const res = await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, headers: { Accept: 'application/x-ndjson' }, json: { cmd: 'echo one; sleep 0.3; echo two' } });
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.deepEqual(JSON.parse(first.split('\n')[0]!), { type: 'stdout', data: 'one\n' });
    let rest = '';
    for (let i = 0; i < 100; i++) { const { value, done } = await reader.read(); if (done) break; rest += new TextDecoder().decode(value); }
    const lines = rest.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [{ type: 'stdout', data: 'two\n' }, { type: 'end', exitCode: 0 }]);
  });

  // Every byte value, and a UTF-8 character split across two of the command's writes.
  const bytes = Buffer.from(Array.from({ length: 3 * 256 }, (_, i) => (i * 7) % 256));
  const ndjson = async (id: string, json: object) => {
    const res = await s.api(`/v1/sandboxes/${id}/exec`, { method: 'POST', key: keyA, headers: { Accept: 'application/x-ndjson' }, json });
    assert.equal(res.status, 200);
    return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; data?: string; exitCode?: number });
  };

  test('base64 carries any bytes each way, buffered and streamed', async () => {
    const sb = await create(keyA);
    const json = { cmd: 'cat; printf \'\\377\\000\' >&2', stdin: bytes.toString('base64'), encoding: 'base64' };
    const r = await (await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json })).json();
    assert.equal(r.exitCode, 0);
    assert.ok(Buffer.from(r.stdout, 'base64').equals(bytes));
    assert.deepEqual([...Buffer.from(r.stderr, 'base64')], [0xff, 0x00]);

    const lines = await ndjson(sb.id, json);
    const of = (type: string) => Buffer.concat(lines.filter((l) => l.type === type).map((l) => {
      // Each line decodes alone: a whole base64 text, not a piece of one.
      assert.ok(l.data!.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(l.data!), l.data);
      return Buffer.from(l.data!, 'base64');
    }));
    assert.ok(of('stdout').equals(bytes));
    assert.deepEqual([...of('stderr')], [0xff, 0x00]);
    assert.deepEqual(lines.at(-1), { type: 'end', exitCode: 0 });
  });

  test('text: a character split between writes arrives whole, an unfinished one at the end as U+FFFD', async () => {
    const sb = await create(keyA);
    const lines = await ndjson(sb.id, { cmd: 'printf \'\\303\'; sleep 0.2; printf \'\\251 a\\303\'' });
    const text = lines.filter((l) => l.type === 'stdout').map((l) => l.data).join('');
    assert.equal(text, 'é a\uFFFD');
    const r = await (await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json: { cmd: 'printf \'\\303\\251\\377\'' } })).json();
    assert.equal(r.stdout, 'é\uFFFD');
  });

  test('stdin that its encoding does not describe is refused before anything runs', async () => {
    const sb = await create(keyA);
    const refused = async (json: object, message: RegExp) => {
      const res = await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json: { cmd: 'touch ran', ...json } });
      const body = await res.json();
      assert.deepEqual([res.status, body.code], [400, 'invalid_argument'], JSON.stringify(body));
      assert.match(JSON.stringify(body), message);
    };
    await refused({ stdin: 'not base64!', encoding: 'base64' }, /stdin is not base64/);
    await refused({ stdin: 'YWJj', encoding: 'base64url' }, /encoding/);
    await refused({ stdin: Buffer.alloc(MAX_EXEC_STDIN + 1).toString('base64'), encoding: 'base64' }, /stdin decodes to over 8388608 bytes/);
    await refused({ stdin: 'x'.repeat(MAX_EXEC_STDIN + 1) }, /stdin is over 8388608 characters/);
    // The most each encoding takes is accepted.
    const ok = await s.api(`/v1/sandboxes/${sb.id}/exec`, { method: 'POST', key: keyA, json: { cmd: 'wc -c', stdin: Buffer.alloc(MAX_EXEC_STDIN, 1).toString('base64'), encoding: 'base64' } });
    assert.equal(Buffer.from((await ok.json()).stdout, 'base64').toString().trim(), String(MAX_EXEC_STDIN));
    const files = await (await s.api(`/v1/sandboxes/${sb.id}/files/list?path=/`, { key: keyA })).json();
    assert.ok(!files.entries.some((e: { name: string }) => e.name === 'ran'), 'no refused exec ran');
  });
});

describe('files', () => {
  test('write, read, stat, list, remove', async () => {
    const sb = await create(keyA);
    const w = await s.api(`/v1/sandboxes/${sb.id}/files?path=/d/sub/a.txt`, { method: 'PUT', key: keyA, body: 'hello' });
    assert.equal(w.status, 200);
    assert.equal((await w.json()).size, 5);
    assert.equal(await (await s.api(`/v1/sandboxes/${sb.id}/files?path=/d/sub/a.txt`, { key: keyA })).text(), 'hello');
    const list = await (await s.api(`/v1/sandboxes/${sb.id}/files/list?path=/d/sub`, { key: keyA })).json();
    assert.deepEqual(list.entries.map((e: { name: string }) => e.name), ['a.txt']);
    assert.equal((await (await s.api(`/v1/sandboxes/${sb.id}/files/stat?path=/d`, { key: keyA })).json()).type, 'dir');
    assert.equal((await s.api(`/v1/sandboxes/${sb.id}/files?path=/d`, { method: 'DELETE', key: keyA })).status, 204);
    // Again: a missing path is no error, as E2B's envd (os.RemoveAll) and the guest.
    assert.equal((await s.api(`/v1/sandboxes/${sb.id}/files?path=/d`, { method: 'DELETE', key: keyA })).status, 204);
    const gone = await s.api(`/v1/sandboxes/${sb.id}/files?path=/d/sub/a.txt`, { key: keyA });
    assert.equal(gone.status, 404);
    assert.equal((await gone.json()).code, 'not_found');
  });

  test('an upload over the size cap is refused, declared or streamed, and writes nothing', async () => {
    const small = await startFakeServer({ maxFileBytes: 1024 });
    try {
      const key = small.server.adminKey;
      const sb = await (await small.api('/v1/sandboxes', { method: 'POST', key, json: { template: 'busybox' } })).json();
      const declared = await small.api(`/v1/sandboxes/${sb.id}/files?path=/big`, { method: 'PUT', key, body: Buffer.alloc(2048) });
      assert.equal(declared.status, 400);
      assert.match((await declared.json()).message, /larger than 1024 bytes/);
      const streamed = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(Buffer.alloc(800)); c.enqueue(Buffer.alloc(800)); c.close(); } });
      const chunked = await small.api(`/v1/sandboxes/${sb.id}/files?path=/big`, { method: 'PUT', key, body: streamed, duplex: 'half' } as RequestInit);
      assert.equal(chunked.status, 400);
      assert.equal((await chunked.json()).code, 'invalid_argument');
      const stat = await small.api(`/v1/sandboxes/${sb.id}/files/stat?path=/big`, { key });
      assert.ok(stat.status === 404 || (await stat.json()).size <= 1024, 'no over-cap file is left complete');
    } finally {
      await small.stop();
    }
  });

  test('path traversal and bad paths are refused and write nothing', async () => {
    const sb = await create(keyA);
    for (const path of ['../../etc/passwd', '/a/../../b', 'relative', '/x%00y', '']) {
      const res = await s.api(`/v1/sandboxes/${sb.id}/files?path=${encodeURIComponent(path).replace('%2500', '%00')}`, { method: 'PUT', key: keyA, body: 'x' });
      assert.equal(res.status, 400, path);
      assert.equal((await res.json()).code, 'invalid_argument');
    }
    const list = await (await s.api(`/v1/sandboxes/${sb.id}/files/list?path=/`, { key: keyA })).json();
    assert.deepEqual(list.entries, []);
  });
});

describe('service endpoints', () => {
  test('healthz, openapi and metrics', async () => {
    assert.equal((await (await fetchAny(`${s.server.url}/healthz`)).json()).status, 'ok');
    const doc = await (await fetchAny(`${s.server.url}/v1/openapi.json`)).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/v1/sandboxes'].post.requestBody);
    assert.ok(doc.components.schemas.CreateSandbox.properties.template);
    assert.equal(JSON.stringify(doc).includes('__shared'), false);
    assert.ok(doc.paths['/v1/sandboxes/{id}/ports/{port}/{path}'].get, 'the port proxy is documented');
    const text = await (await s.api('/metrics')).text();
    assert.match(text, /agentbox_sandboxes\{state="running"\} \d+/);
    assert.match(text, /agentbox_operation_duration_seconds_bucket\{le="[\d.]+",op="create"\}/);
  });

  test('unknown routes and methods', async () => {
    assert.equal((await s.api('/v1/nope')).status, 404);
    const res = await s.api('/v1/sandboxes', { method: 'PUT' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'invalid_argument');
  });
});
