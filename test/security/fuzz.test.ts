// test-file-timeout: 20 min
// Property-based fuzzing of every route of the native API and of the E2B control API, on the
// REAL server (runc + busybox, real SQLite, network namespaces, nftables), as a non-admin tenant
// (and sometimes with no key, a wrong key or the admin key). For every generated request:
// - no 5xx (501 "not supported by this runtime class" aside), and /healthz still answers;
// - a 4xx leaves the database and the host (veths, netns, cgroups, mounts, the nft table, the
//   engine's sandbox directories) exactly as they were.
// Bounded in count (FUZZ_RUNS per route) and time (each property stops after FUZZ_MS).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { nativeRoutes, type RouteSpec } from '../../src/api/native-routes.ts';
import { e2bApi } from '../../src/api/e2b.ts';
import { routeList } from '../../src/api/route.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { networkIndex, testNetwork } from '../support/test-network.ts';
import { fetchAny } from '../support/fake-server.ts';
import { hostState, type Scope } from './host-state.ts';

const FUZZ_RUNS = Number(process.env.AGENTBOX_FUZZ_RUNS ?? 12);
/** Per route: the whole file stays within a few minutes on a loaded 2-core machine. */
const FUZZ_MS = 15_000;

let s: RealServer;
let scope: Scope;
let tenantKey: string;
/** A sandbox of the fuzzing tenant and one of another tenant: ids that a path may name. */
const ids = { own: '', foreign: '' };

before(async () => {
  const r = await startRealServer('sec-fuzz');
  if (typeof r === 'string') throw new Error(r);
  s = r;
  scope = { serverHome: s.home, engineHome: s.created.home, network: testNetwork(networkIndex('server-sec-fuzz')) };
  tenantKey = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'fuzzer' } })).json()).key;
  // runc keeps the many creates of a fuzzing run cheap; the runtime rule has its own suite (quota).
  assert.equal((await s.api('/v1/tenants/fuzzer/limits', { method: 'PUT', json: { runtimes: ['runc', 'gvisor'] } })).status, 200);
  const other = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'bystander' } })).json()).key;
  ids.foreign = await createSandbox(other);
  ids.own = await createSandbox(tenantKey);
});
after(async () => { await s?.stop(); });

async function createSandbox(key: string): Promise<string> {
  const res = await s.api('/v1/sandboxes', { method: 'POST', key, json: { template: 'busybox', timeoutSeconds: 3600 } });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

/** Path segments worth trying: real ids, traversal, bad escapes, control characters. */
const segment = fc.oneof(
  fc.constantFrom(() => ids.own, () => ids.foreign).map((f) => encodeURIComponent(f())),
  fc.constantFrom('..', '%2e%2e', '%2F', '%', '%zz', '%00', '%ff', '.', 'busybox', 'base', 'a'.repeat(300)),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);

const queryValue = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('/', '/tmp', '/../../etc/passwd', '-1', '1e309', 'NaN', '%zz'));

function pathFor(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc.tuple(...names.map(() => segment)).map((vals) => {
    let i = 0;
    return template.replace(/\{(\w+)\}/g, () => vals[i++]!);
  });
}

function queryFor(keys: string[]): fc.Arbitrary<string> {
  const key = keys.length ? fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })) : fc.string({ maxLength: 12 });
  return fc.array(fc.tuple(key, queryValue), { maxLength: 4 }).map((pairs) => {
    const q = new URLSearchParams(pairs).toString();
    return q ? `?${q}` : '';
  });
}

/** JSON that is almost right is where validators break: mutate one field of a valid body. */
function bodyFor(sample: Record<string, unknown> | undefined): fc.Arbitrary<string | Uint8Array | undefined> {
  const garbage = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 256 }),
    fc.constant(undefined),
    fc.constantFrom('{', '{"a":', '[]'.repeat(5000), '{"__proto__":{"admin":true}}', 'null'),
  );
  if (!sample) return garbage;
  const keys = Object.keys(sample);
  const mutated = fc.tuple(fc.constantFrom(...keys, 'extra'), fc.jsonValue()).map(([k, v]) => JSON.stringify({ ...sample, [k]: v }));
  return fc.oneof(garbage, mutated);
}

type Who = 'tenant' | 'none' | 'wrong' | 'admin';
const who = fc.constantFrom<Who>('tenant', 'tenant', 'tenant', 'none', 'wrong', 'admin');

interface Target { method: string; path: string; queryKeys: string[]; sample?: Record<string, unknown>; e2b: boolean }

/**
 * Bodies that pass validation for routes whose success is cheap and bounded (creates of one
 * busybox sandbox, commands, timeouts). Routes whose valid bodies could start many sandboxes
 * or a Debian build (pools, templates) are fuzzed with invalid bodies only.
 */
const SAMPLES: Record<string, Record<string, unknown>> = {
  'POST /v1/sandboxes': { template: 'busybox', timeoutSeconds: 60 },
  'POST /v1/sandboxes/{id}/exec': { cmd: 'true' },
  'POST /v1/sandboxes/{id}/timeout': { timeoutSeconds: 600 },
  'POST /e2b/sandboxes': { templateID: 'busybox', timeout: 60 },
  'POST /e2b/sandboxes/{id}/timeout': { timeout: 600 },
};

function targets(): Target[] {
  const native = nativeRoutes.map((r: RouteSpec): Target => ({
    method: r.method, path: r.path, e2b: false,
    queryKeys: r.query ? Object.keys(r.query.shape) : [],
    ...(SAMPLES[`${r.method} ${r.path}`] ? { sample: SAMPLES[`${r.method} ${r.path}`] } : {}),
  }));
  const e2b = routeList(e2bApi).map((r): Target => ({
    method: r.method, path: `/e2b${r.path}`, e2b: true, queryKeys: ['limit', 'state', 'metadata', 'nextToken', 'start', 'end'],
    ...(SAMPLES[`${r.method} /e2b${r.path}`] ? { sample: SAMPLES[`${r.method} /e2b${r.path}`] } : {}),
  }));
  return [...native, ...e2b];
}

function headers(t: Target, w: Who, body: string | Uint8Array | undefined): Record<string, string> {
  const key = w === 'tenant' ? tenantKey : w === 'admin' ? s.server.adminKey : w === 'wrong' ? `e2b_${'0'.repeat(40)}` : undefined;
  const h: Record<string, string> = {};
  if (key) h[t.e2b ? 'X-API-Key' : 'Authorization'] = t.e2b ? key : `Bearer ${key}`;
  if (body !== undefined) h['Content-Type'] = typeof body === 'string' ? 'application/json' : 'application/octet-stream';
  return h;
}

/** Sandboxes a successful fuzzed create left behind go, so each request starts from the same host. */
async function removeExtras(): Promise<void> {
  for (const info of s.created.engine.list()) {
    if (info.id !== ids.own && info.id !== ids.foreign) await s.server.service.destroy(info.id);
  }
  if (!s.created.engine.list().some((i) => i.id === ids.own)) ids.own = await createSandbox(tenantKey);
  const own = await (await s.api(`/v1/sandboxes/${ids.own}`, { key: tenantKey })).json();
  if (own.state === 'paused') await s.server.service.resumeById(ids.own);
}

describe('route fuzzing on the real server', () => {
  for (const t of targets()) {
    test(`${t.method} ${t.path}`, { timeout: FUZZ_MS + 120_000 }, async () => {
      let requests = 0;
      await fc.assert(fc.asyncProperty(pathFor(t.path), queryFor(t.queryKeys), bodyFor(t.sample), who, async (path, query, body, w) => {
        const before = await hostState(scope);
        const res = await fetchAny(`${s.server.url}${path}${query}`, {
          method: t.method, headers: headers(t, w, body),
          ...(body !== undefined && t.method !== 'GET' ? { body } : {}),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text().catch(() => '');
        requests++;
        // 501 is an answer, not a failure: the runtime class (runc here) lacks the feature.
        assert.ok(res.status < 500 || res.status === 501, `${t.method} ${path}${query} as ${w} → ${res.status} ${text.slice(0, 300)}`);
        assert.equal((await fetchAny(`${s.server.url}/healthz`)).status, 200, 'the server still answers');
        if (res.status >= 400) {
          assert.deepEqual(await hostState(scope), before, `${t.method} ${path}${query} as ${w} → ${res.status} changed state`);
        } else {
          await removeExtras();
        }
      }), { numRuns: FUZZ_RUNS, interruptAfterTimeLimit: FUZZ_MS, markInterruptAsFailure: false });
      assert.ok(requests > 0, 'at least one request was made');
    });
  }
});
