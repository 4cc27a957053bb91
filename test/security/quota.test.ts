// H5 and M1 ("any tenant may pick runc"): per-tenant limits of the server policy, against a real
// server over the real engine with two real tenants. Each limit admits use up to the limit and
// refuses one past it with 429 quota_exceeded naming the limit, the use and the maximum; checks
// hold under concurrent requests; a refused request leaves no row, sandbox, veth or directory
// behind; runc needs an admin's permission. The first server runs runc by default (fast); the
// runtime rule and forks are checked again on a server whose default is gVisor.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { fetchAny, type AnyResponse } from '../support/fake-server.ts';
import { networkIndex, testNetwork } from '../support/test-network.ts';
import { waitFor } from '../support/wait.ts';
import { untilNoGoldenBuild } from '../support/golden.ts';

const BIG = { runningSandboxes: 100, pausedSandboxes: 100, totalCpu: 1000, totalMemoryMiB: 1_000_000, sandboxMemoryMiBMax: 4096 };

interface Ctx { s: RealServer; keys: Record<string, string> }

async function start(runtime: 'runc' | 'gvisor', tenants: string[]): Promise<Ctx | string> {
  const s = await startRealServer('sec-quota', { runtime });
  if (typeof s === 'string') return s;
  // Built before the tests: a create during the first build would get 409 "building".
  await s.created.templates.ensure('busybox', () => {});
  const keys: Record<string, string> = {};
  for (const t of tenants) {
    const res = await s.api('/v1/keys', { method: 'POST', json: { tenant: t } });
    assert.equal(res.status, 201);
    keys[t] = (await res.json()).key;
  }
  return { s, keys };
}

/** Everything a create leaves on the host and in the state: rows, engine sandboxes, their directories and veths. */
async function hostState(s: RealServer): Promise<{ rows: string[]; engine: string[]; dirs: string[]; links: string[] }> {
  await untilNoGoldenBuild(s.created.home);
  const db = new Database(join(s.home, 'state.db'), { readonly: true });
  const rows = (db.prepare('SELECT id, state, pooled FROM sandboxes ORDER BY id').all() as { id: string; state: string; pooled: number }[])
    .map((r) => `${r.id}:${r.state}:${r.pooled}`);
  db.close();
  const prefix = testNetwork(networkIndex('server-sec-quota')).ifacePrefix;
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1]).filter((n): n is string => !!n && n.startsWith(prefix)).sort();
  const dir = join(s.created.home, 'sandboxes');
  return { rows, engine: s.created.engine.list().map((i) => i.id).sort(), dirs: readdirSync(dir).sort(), links };
}

/** Asserts a 429 quota_exceeded naming `limit` with these numbers, in the native shape. */
async function quota(res: AnyResponse, limit: string, used: number, requested: number, max: number): Promise<void> {
  const body = await res.json();
  assert.equal(res.status, 429, JSON.stringify(body));
  assert.equal(body.code, 'quota_exceeded');
  assert.deepEqual({ ...body.details, tenant: undefined }, { limit, used, requested, max, tenant: undefined });
  assert.match(body.message, new RegExp(`${limit} is ${used} in use \\+ ${requested} requested, over the maximum of ${max}`));
}

describe('runc-default server', { timeout: 600_000 }, () => {
  let c: Ctx | undefined;
  let skip: string | false = false;
  before(async () => {
    const r = await start('runc', ['qa', 'qb']);
    if (typeof r === 'string') skip = r; else c = r;
    if (c) {
      // Fast runc sandboxes for the limit checks; the runtime test takes runc away from qb again.
      const res = await c.s.api('/v1/policy', { method: 'PUT', json: { defaults: { runtimes: ['gvisor', 'runc'] } } });
      assert.equal(res.status, 200, await res.clone().text());
    }
  });
  after(async () => { await c?.s.stop(); });

  const create = (key: string, body: Record<string, unknown> = {}) => c!.s.api('/v1/sandboxes', { method: 'POST', key, json: { template: 'busybox', ...body } });
  const limits = async (tenant: string, patch: Record<string, unknown>) => {
    const res = await c!.s.api(`/v1/tenants/${tenant}/limits`, { method: 'PUT', json: patch });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  };
  const killAll = async (key: string) => {
    const { sandboxes } = await (await c!.s.api('/v1/sandboxes?limit=1000', { key })).json();
    for (const sb of sandboxes as { id: string }[]) assert.equal((await c!.s.api(`/v1/sandboxes/${sb.id}`, { method: 'DELETE', key })).status, 204);
  };
  // A failed test leaves nothing for the next one.
  afterEach(async () => {
    if (!c) return;
    for (const key of Object.values(c.keys)) {
      for (const p of (await (await c.s.api('/v1/pools', { key })).json()).pools as { template: string }[]) await c.s.api(`/v1/pools/${p.template}`, { method: 'DELETE', key });
      await killAll(key);
    }
    await waitFor('deleted pools to empty', async () => !(await hostState(c!.s)).rows.some((r) => r.endsWith(':1')), 60_000, 100);
  });

  test('the policy API is admin-only and validated; the 0600 file applies edits without a restart; per-sandbox maxima are clamped to the host', async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    for (const [method, path] of [['GET', '/v1/policy'], ['PUT', '/v1/policy'], ['GET', '/v1/tenants/qa/limits'], ['PUT', '/v1/tenants/qa/limits'], ['DELETE', '/v1/tenants/qa/limits']] as const) {
      const res = await s.api(path, { method, key: keys.qa, ...(method === 'PUT' ? { json: { defaults: {} } } : {}) });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    const bad = await s.api('/v1/tenants/qa/limits', { method: 'PUT', json: { runningSandboxes: -1 } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'invalid_argument');
    assert.equal((await s.api('/v1/tenants/qa/limits', { method: 'PUT', json: { runtimes: ['kata'] } })).status, 400);
    assert.equal((await s.api('/v1/tenants/nobody/limits')).status, 404);
    const v = await limits('qa', { sandboxCpuMax: 64 });
    assert.equal(v.limits.sandboxCpuMax, availableParallelism(), 'one sandbox never gets more cores than the host has');
    assert.deepEqual(v.overrides, { sandboxCpuMax: 64 });
    assert.equal(statSync(join(s.home, 'policy.json')).mode & 0o777, 0o600);
    const own = await (await s.api('/v1/limits', { key: keys.qa })).json();
    assert.equal(own.tenant, 'qa');
    assert.equal(own.usage.runningSandboxes, 0);
    const policy = await (await s.api('/v1/policy')).json();
    assert.deepEqual(policy.defaults, { runtimes: ['gvisor', 'runc'] });
    assert.deepEqual(policy.tenants.qa, { sandboxCpuMax: 64 });
    assert.equal((await s.api('/v1/tenants/qa/limits', { method: 'DELETE' })).status, 204);
    assert.equal((await s.api('/v1/tenants/qa/limits', { method: 'DELETE' })).status, 404);
    // An operator's edit of the file applies at the next request, without a restart; an invalid
    // edit leaves the last valid policy in force.
    const file = join(s.home, 'policy.json');
    writeFileSync(file, JSON.stringify({ defaults: { runtimes: ['gvisor', 'runc'] }, tenants: { qa: { runningSandboxes: 0 } } }));
    await quota(await s.api('/v1/sandboxes', { method: 'POST', key: keys.qa, json: { template: 'busybox', runtime: 'runc' } }), 'runningSandboxes', 0, 1, 0);
    writeFileSync(file, JSON.stringify({ defaults: { runningSandboxes: 'lots' } }));
    await quota(await s.api('/v1/sandboxes', { method: 'POST', key: keys.qa, json: { template: 'busybox', runtime: 'runc' } }), 'runningSandboxes', 0, 1, 0);
    const restored = await s.api('/v1/policy', { method: 'PUT', json: { defaults: { runtimes: ['gvisor', 'runc'] } } });
    assert.equal(restored.status, 200);
    assert.equal((await s.api('/v1/tenants/qa/limits', { method: 'DELETE' })).status, 204);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { defaults: { runtimes: ['gvisor', 'runc'] }, tenants: {} });
  });

  test('50 concurrent creates against runningSandboxes 5 admit exactly 5; the 45 refused leave nothing behind', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    await limits('qa', { ...BIG, runningSandboxes: 5 });
    const before = await hostState(s);
    const results = await Promise.all(Array.from({ length: 50 }, () => create(keys.qa!, { runtime: 'runc' })));
    const made = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    assert.equal(made.length, 5, `${made.length} admitted`);
    for (const r of refused) await quota(r, 'runningSandboxes', 5, 1, 5);
    const ids = (await Promise.all(made.map((r) => r.json()))).map((b) => b.id as string);
    const afterState = await hostState(s);
    assert.deepEqual(afterState.engine, [...before.engine, ...ids].sort());
    assert.deepEqual(afterState.dirs, [...before.dirs, ...ids].sort());
    assert.deepEqual(afterState.rows, [...before.rows, ...ids.map((id) => `${id}:running:0`)].sort());
    assert.equal(afterState.links.length, before.links.length + 5);
    // The other tenant is not held to qa's use.
    const other = await create(keys.qb!, { runtime: 'runc' });
    assert.equal(other.status, 201, await other.clone().text());
    const usage = (await (await s.api('/v1/tenants/qa/limits')).json()).usage;
    assert.equal(usage.runningSandboxes, 5);
    await killAll(keys.qa!);
    await killAll(keys.qb!);
    assert.deepEqual(await hostState(s), before);
  });

  test('total vCPU, total memory and the per-sandbox maxima', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { keys } = c!;
    await limits('qa', { ...BIG, totalCpu: 2, totalMemoryMiB: 700, sandboxCpuMax: 1, sandboxMemoryMiBMax: 512 });
    await quota(await create(keys.qa!, { runtime: 'runc', cpu: 1.5 }), 'sandboxCpuMax', 0, 1.5, 1);
    await quota(await create(keys.qa!, { runtime: 'runc', memoryMiB: 1024 }), 'sandboxMemoryMiBMax', 0, 1024, 512);
    assert.equal((await create(keys.qa!, { runtime: 'runc', cpu: 1, memoryMiB: 256 })).status, 201);
    assert.equal((await create(keys.qa!, { runtime: 'runc', cpu: 0.5, memoryMiB: 256 })).status, 201);
    await quota(await create(keys.qa!, { runtime: 'runc', cpu: 0.25, memoryMiB: 256 }), 'totalMemoryMiB', 512, 256, 700);
    await quota(await create(keys.qa!, { runtime: 'runc', cpu: 1, memoryMiB: 64 }), 'totalCpu', 1.5, 1, 2);
    await killAll(keys.qa!);
  });

  test('pause counts against pausedSandboxes, resume against runningSandboxes, also when two resumes race', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    const act = (id: string, what: string) => s.api(`/v1/sandboxes/${id}/${what}`, { method: 'POST', key: keys.qa });
    await limits('qa', { ...BIG, runningSandboxes: 1, pausedSandboxes: 1 });
    const a = (await (await create(keys.qa!, { runtime: 'runc' })).json()).id as string;
    await quota(await create(keys.qa!, { runtime: 'runc' }), 'runningSandboxes', 1, 1, 1);
    assert.equal((await act(a, 'pause')).status, 200);
    const b = (await (await create(keys.qa!, { runtime: 'runc' })).json()).id as string;
    await quota(await act(b, 'pause'), 'pausedSandboxes', 1, 1, 1);
    await quota(await act(a, 'resume'), 'runningSandboxes', 1, 1, 1);
    assert.equal((await s.api(`/v1/sandboxes/${a}`, { key: keys.qa })).status, 200);
    assert.equal((await (await s.api(`/v1/sandboxes/${a}`, { key: keys.qa })).json()).state, 'paused', 'a refused resume leaves it paused');
    assert.equal((await s.api(`/v1/sandboxes/${b}`, { method: 'DELETE', key: keys.qa })).status, 204);
    assert.equal((await act(a, 'resume')).status, 200);
    // Two paused sandboxes, room for one running: concurrent resumes admit exactly one.
    await limits('qa', { ...BIG, runningSandboxes: 2, pausedSandboxes: 2 });
    const b2 = (await (await create(keys.qa!, { runtime: 'runc' })).json()).id as string;
    assert.equal((await act(a, 'pause')).status, 200);
    assert.equal((await act(b2, 'pause')).status, 200);
    await limits('qa', { ...BIG, runningSandboxes: 1, pausedSandboxes: 2 });
    const both = await Promise.all([act(a, 'resume'), act(b2, 'resume')]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 429]);
    await quota(both.find((r) => r.status === 429)!, 'runningSandboxes', 1, 1, 1);
    await killAll(keys.qa!);
  });

  test('forks: native and E2B are refused past runningSandboxes, and an E2B call past forksPerCall in E2B\'s error shape', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    await limits('qa', { ...BIG, runningSandboxes: 1, forksPerCall: 2 });
    const id = (await (await create(keys.qa!, { runtime: 'runc' })).json()).id as string;
    const before = await hostState(s);
    await quota(await s.api(`/v1/sandboxes/${id}/fork`, { method: 'POST', key: keys.qa, json: {} }), 'runningSandboxes', 1, 1, 1);
    const e2bFork = (count: number) => fetchAny(`${s.server.url}/e2b/sandboxes/${id}/fork`, {
      method: 'POST', headers: { 'X-API-Key': keys.qa!, 'Content-Type': 'application/json' }, body: JSON.stringify({ count }),
    });
    const tooMany = await e2bFork(3);
    assert.equal(tooMany.status, 429);
    const body = await tooMany.json();
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message']);
    assert.equal(body.code, 429);
    assert.match(body.message, /forksPerCall is 0 in use \+ 3 requested, over the maximum of 2/);
    const items = await (await e2bFork(2)).json();
    assert.equal(items.length, 2);
    for (const it of items) {
      assert.equal(it.error.code, 429);
      assert.match(it.error.message, /runningSandboxes is 1 in use \+ 1 requested, over the maximum of 1/);
    }
    assert.deepEqual(await hostState(s), before, 'refused forks leave nothing behind');
    await killAll(keys.qa!);
  });

  test('E2B create over quota answers E2B\'s {code, message} with 429', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    await limits('qa', { ...BIG, runningSandboxes: 0 });
    const before = await hostState(s);
    const res = await fetchAny(`${s.server.url}/e2b/sandboxes`, {
      method: 'POST', headers: { 'X-API-Key': keys.qa!, 'Content-Type': 'application/json' }, body: JSON.stringify({ templateID: 'busybox', timeout: 60 }),
    });
    assert.equal(res.status, 429);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message']);
    assert.equal(body.code, 429);
    assert.match(body.message, /runningSandboxes is 0 in use \+ 1 requested, over the maximum of 0/);
    assert.deepEqual(await hostState(s), before);
  });

  test('pools: pool size and pool count are limited; a warm claim counts as a create', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    await limits('qa', { ...BIG, runningSandboxes: 1, pools: 1, poolSize: 2 });
    const pool = (tpl: string, json: Record<string, unknown>) => s.api(`/v1/pools/${tpl}`, { method: 'PUT', key: keys.qa, json });
    await quota(await pool('busybox', { size: 3 }), 'poolSize', 0, 3, 2);
    const set = await pool('busybox', { size: 2, runtime: 'runc' });
    assert.equal(set.status, 200, await set.clone().text());
    assert.equal((await set.json()).runtime, 'runc');
    await waitFor('pool ready', async () => (await (await s.api('/v1/pools/busybox', { key: keys.qa })).json()).ready === 2, 60_000, 100);
    const first = await create(keys.qa!, { runtime: 'runc' });
    assert.equal(first.status, 201);
    assert.equal((await first.json()).fromPool, true);
    const rowsBefore = (await hostState(s)).rows.filter((r) => r.endsWith(':0'));
    await quota(await create(keys.qa!, { runtime: 'runc' }), 'runningSandboxes', 1, 1, 1);
    assert.deepEqual((await hostState(s)).rows.filter((r) => r.endsWith(':0')), rowsBefore, 'a refused claim leaves the warm sandbox in the pool');
    // A template of qa's own, built while another build of qa runs: concurrentBuilds 1.
    await limits('qa', { ...BIG, runningSandboxes: 1, pools: 1, poolSize: 2, concurrentBuilds: 1 });
    const build = (name: string, run: string[]) => s.api('/v1/templates', { method: 'POST', key: keys.qa, json: { name, from: { template: 'busybox' }, run } });
    // The run step is unique per run: a step cached from an earlier run would finish at once.
    const slow = build('qa-slow', [`sleep 3 # ${Date.now()}`]);
    await waitFor('the first build to run', async () => {
      const { templates } = await (await s.api('/v1/templates', { key: keys.qa })).json();
      return (templates as { name: string; state: string }[]).some((x) => x.name === 'qa-slow' && x.state === 'building');
    }, 60_000, 100);
    await quota(await build('qa-other', []), 'concurrentBuilds', 1, 1, 1);
    assert.equal((await slow).status, 201);
    await quota(await pool('qa-slow', { size: 1 }), 'pools', 1, 1, 1);
    assert.equal((await s.api('/v1/pools/busybox', { method: 'DELETE', key: keys.qa })).status, 204);
    assert.equal((await pool('qa-slow', { size: 1, runtime: 'runc' })).status, 200, 'room for a pool again once one is deleted');
    assert.equal((await s.api('/v1/pools/qa-slow', { method: 'DELETE', key: keys.qa })).status, 204);
    await killAll(keys.qa!);
  });

  test('runtime: runc is refused for a tenant not allowed it, and allowed after an admin allows it', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    await limits('qb', { runtimes: ['gvisor'] });
    const before = await hostState(s);
    const refused = await create(keys.qb!, { runtime: 'runc' });
    assert.equal(refused.status, 403);
    const body = await refused.json();
    assert.equal(body.code, 'permission_denied');
    assert.deepEqual(body.details, { runtime: 'runc', allowed: ['gvisor'] });
    assert.match(body.message, /allowed: gvisor/);
    assert.equal((await s.api('/v1/pools/busybox', { method: 'PUT', key: keys.qb, json: { size: 1, runtime: 'runc' } })).status, 403);
    assert.deepEqual(await hostState(s), before);
    // Without a runtime, a tenant gets one it may use even though the server's default is runc.
    const dflt = await create(keys.qb!);
    assert.equal(dflt.status, 201, await dflt.clone().text());
    assert.equal((await dflt.json()).runtime, 'gvisor');
    // Admin keys may use any runtime.
    const adminRunc = await c!.s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', runtime: 'runc' } });
    assert.equal(adminRunc.status, 201);
    await c!.s.api(`/v1/sandboxes/${(await adminRunc.json()).id}`, { method: 'DELETE' });
    await limits('qb', { runtimes: ['gvisor', 'runc'] });
    const allowed = await create(keys.qb!, { runtime: 'runc' });
    assert.equal(allowed.status, 201, await allowed.clone().text());
    assert.equal((await allowed.json()).runtime, 'runc');
    await killAll(keys.qb!);
  });
});

describe('gVisor-default server', { timeout: 600_000 }, () => {
  let c: Ctx | undefined;
  let skip: string | false = false;
  before(async () => {
    const r = await start('gvisor', ['qc']);
    if (typeof r === 'string') skip = r; else c = r;
  });
  after(async () => { await c?.s.stop(); });

  test('built-in policy: gVisor only until an admin allows runc; forks within and past the limit', { timeout: 300_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const { s, keys } = c!;
    const create = (body: Record<string, unknown> = {}) => s.api('/v1/sandboxes', { method: 'POST', key: keys.qc, json: { template: 'busybox', ...body } });
    const before = await hostState(s);
    const refused = await create({ runtime: 'runc' });
    assert.equal(refused.status, 403);
    assert.deepEqual((await refused.json()).details, { runtime: 'runc', allowed: ['gvisor'] });
    assert.deepEqual(await hostState(s), before);
    await s.api('/v1/tenants/qc/limits', { method: 'PUT', json: { runningSandboxes: 2 } });
    const src = await create();
    assert.equal(src.status, 201, await src.clone().text());
    const id = (await src.json()).id as string;
    const fork = await s.api(`/v1/sandboxes/${id}/fork`, { method: 'POST', key: keys.qc, json: {} });
    assert.equal(fork.status, 201, await fork.clone().text());
    const mid = await hostState(s);
    await quota(await s.api(`/v1/sandboxes/${id}/fork`, { method: 'POST', key: keys.qc, json: {} }), 'runningSandboxes', 2, 1, 2);
    assert.deepEqual(await hostState(s), mid, 'the refused fork left nothing behind');
    // A sandbox restored from a snapshot counts like a create too (E2B: the snapshot id as templateID).
    const e2b = (path: string, json: unknown) => fetchAny(`${s.server.url}/e2b${path}`, {
      method: 'POST', headers: { 'X-API-Key': keys.qc!, 'Content-Type': 'application/json' }, body: JSON.stringify(json),
    });
    const snap = await e2b(`/sandboxes/${id}/snapshots`, {});
    assert.equal(snap.status, 201, await snap.clone().text());
    const restored = await e2b('/sandboxes', { templateID: (await snap.json()).snapshotID, timeout: 60 });
    assert.equal(restored.status, 429);
    const body = await restored.json();
    assert.equal(body.code, 429);
    assert.match(body.message, /runningSandboxes is 2 in use \+ 1 requested, over the maximum of 2/);
    assert.deepEqual(await hostState(s), mid, 'the refused restore left nothing behind');
    await s.api(`/v1/sandboxes/${(await fork.json()).id}`, { method: 'DELETE', key: keys.qc });
    assert.equal((await s.api('/v1/tenants/qc/limits', { method: 'PUT', json: { runningSandboxes: 2, runtimes: ['gvisor', 'runc'] } })).status, 200);
    const runc = await create({ runtime: 'runc' });
    assert.equal(runc.status, 201, await runc.clone().text());
    assert.equal((await runc.json()).runtime, 'runc');
    for (const sb of (await (await s.api('/v1/sandboxes', { key: keys.qc })).json()).sandboxes as { id: string }[]) {
      await s.api(`/v1/sandboxes/${sb.id}`, { method: 'DELETE', key: keys.qc });
    }
  });
});
