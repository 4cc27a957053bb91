// The policy's rules as pure functions, and the policy file's store on a real temporary directory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AgentboxError } from '../api/errors.ts';
import {
  BUILTIN_LIMITS, checkBuild, checkForks, checkPause, checkPool, checkStart, defaultLimits, resolveRuntime, subjectLimits,
  tenantLimits, withTenant, type SandboxUse,
} from './policy.ts';
import { PolicyStore } from './policy-store.ts';

const host = { cpus: 2, memoryMiB: 24_000 };
const acme = { tenantId: 't_1', tenantName: 'acme', admin: false };
const admin = { ...acme, admin: true };
const idle: SandboxUse = { runningSandboxes: 0, pausedSandboxes: 0, totalCpu: 0, totalMemoryMiB: 0 };
const small = { cpu: 1, memoryMiB: 512 };

/** Asserts `fn` throws quota_exceeded naming `limit` with these numbers. */
function refuses(fn: () => unknown, limit: string, used: number, requested: number, max: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AgentboxError);
    assert.equal(e.code, 'quota_exceeded');
    assert.equal(e.httpStatus, 429);
    assert.deepEqual(e.details, { limit, used, requested, max, tenant: 'acme' });
    assert.match(e.message, new RegExp(`${limit} is ${used} in use \\+ ${requested} requested, over the maximum of ${max}`));
    return true;
  });
}

describe('limits', () => {
  test('built-in, then defaults, then the tenant\'s overrides; per-sandbox maxima clamped to the host', () => {
    const doc = { defaults: { runningSandboxes: 3, sandboxCpuMax: 16 }, tenants: { acme: { runningSandboxes: 7, runtimes: ['gvisor' as const, 'runc' as const] } } };
    assert.deepEqual(defaultLimits({ defaults: {}, tenants: {} }, host), BUILTIN_LIMITS);
    assert.equal(defaultLimits(doc, host).runningSandboxes, 3);
    assert.equal(defaultLimits(doc, host).sandboxCpuMax, 2, 'never more cores than the host has');
    assert.equal(tenantLimits(doc, 'acme', host).runningSandboxes, 7);
    assert.deepEqual(tenantLimits(doc, 'acme', host).runtimes, ['gvisor', 'runc']);
    assert.equal(tenantLimits(doc, 'other', host).runningSandboxes, 3);
    assert.equal(tenantLimits(doc, 'acme', { cpus: 64, memoryMiB: 1024 }).sandboxMemoryMiBMax, 1024);
  });

  test('an admin key has no count, total or runtime limit, but one sandbox is still no larger than the host', () => {
    const l = subjectLimits({ defaults: { runningSandboxes: 0 }, tenants: {} }, admin, host);
    checkStart(l, { runningSandboxes: 1e6, pausedSandboxes: 1e6, totalCpu: 1e6, totalMemoryMiB: 1e9 }, small, admin);
    assert.equal(resolveRuntime(l, 'runc', 'gvisor', admin), 'runc');
    assert.throws(() => checkStart(l, idle, { cpu: 3, memoryMiB: 512 }, admin), /sandboxCpuMax/);
  });

  test('withTenant replaces and removes overrides without touching the rest', () => {
    const doc = { defaults: { pools: 1 }, tenants: { a: { poolSize: 1 } } };
    assert.deepEqual(withTenant(doc, 'b', { pools: 3 }), { defaults: { pools: 1 }, tenants: { a: { poolSize: 1 }, b: { pools: 3 } } });
    assert.deepEqual(withTenant(doc, 'a', undefined), { defaults: { pools: 1 }, tenants: {} });
    assert.deepEqual(doc.tenants, { a: { poolSize: 1 } }, 'the input is not changed');
  });
});

describe('checks', () => {
  const l = { ...BUILTIN_LIMITS, runningSandboxes: 5, totalCpu: 2.5, totalMemoryMiB: 2048, pausedSandboxes: 2 };

  test('a start is admitted up to each limit exactly and refused one past it', () => {
    checkStart(l, { ...idle, runningSandboxes: 4 }, small, acme);
    refuses(() => checkStart(l, { ...idle, runningSandboxes: 5 }, small, acme), 'runningSandboxes', 5, 1, 5);
    checkStart(l, { ...idle, totalCpu: 1.5 }, small, acme);
    refuses(() => checkStart(l, { ...idle, totalCpu: 2 }, small, acme), 'totalCpu', 2, 1, 2.5);
    checkStart(l, { ...idle, totalMemoryMiB: 1536 }, small, acme);
    refuses(() => checkStart(l, { ...idle, totalMemoryMiB: 1537 }, small, acme), 'totalMemoryMiB', 1537, 512, 2048);
    // Fractions add up without float noise: 0.1 + 0.2 fits under 0.3.
    checkStart({ ...l, totalCpu: 0.3 }, { ...idle, totalCpu: 0.1 }, { cpu: 0.2, memoryMiB: 64 }, acme);
  });

  test('one sandbox is refused above the per-sandbox maxima', () => {
    refuses(() => checkStart(l, idle, { cpu: 2.5, memoryMiB: 512 }, acme), 'sandboxCpuMax', 0, 2.5, 2);
    refuses(() => checkStart(l, idle, { cpu: 1, memoryMiB: 4097 }, acme), 'sandboxMemoryMiBMax', 0, 4097, 4096);
  });

  test('pauses, pools, forks and builds stop at their limits', () => {
    checkPause(l, { ...idle, pausedSandboxes: 1 }, acme);
    refuses(() => checkPause(l, { ...idle, pausedSandboxes: 2 }, acme), 'pausedSandboxes', 2, 1, 2);
    checkPool(l, 1, 2, small, acme);
    refuses(() => checkPool(l, 2, 1, small, acme), 'pools', 2, 1, 2);
    refuses(() => checkPool(l, 0, 3, small, acme), 'poolSize', 0, 3, 2);
    checkPool(l, 5, 0, small, acme); // size 0 holds nothing
    checkForks(l, 4, acme);
    refuses(() => checkForks(l, 5, acme), 'forksPerCall', 0, 5, 4);
    checkBuild(l, 0, acme);
    refuses(() => checkBuild(l, 1, acme), 'concurrentBuilds', 1, 1, 1);
  });

  test('runtimes: a named one must be allowed; none picks the server default when allowed, else the first allowed', () => {
    assert.equal(resolveRuntime(l, undefined, 'gvisor', acme), 'gvisor');
    assert.equal(resolveRuntime(l, undefined, 'runc', acme), 'gvisor');
    assert.equal(resolveRuntime({ ...l, runtimes: ['gvisor', 'runc'] }, undefined, 'runc', acme), 'runc');
    assert.throws(() => resolveRuntime(l, 'runc', 'gvisor', acme), (e: unknown) => {
      assert.ok(e instanceof AgentboxError);
      assert.equal(e.code, 'permission_denied');
      assert.deepEqual(e.details, { runtime: 'runc', allowed: ['gvisor'] });
      assert.match(e.message, /allowed: gvisor/);
      return true;
    });
  });
});

describe('policy file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const logs: string[] = [];
  const log = (msg: string) => { logs.push(msg); };

  test('no file: built-in limits; written atomically, 0600, and read back', () => {
    const path = join(dir, 'a.json');
    const s = new PolicyStore(path, log);
    assert.deepEqual(s.current(), { defaults: {}, tenants: {} });
    s.replace({ defaults: { runningSandboxes: 3 }, tenants: { acme: { runtimes: ['runc'] } } });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(new PolicyStore(path, log).current(), { defaults: { runningSandboxes: 3 }, tenants: { acme: { runtimes: ['runc'] } } });
  });

  test('an edit applies at the next read; an invalid edit is logged once and the last valid policy stays', () => {
    const path = join(dir, 'b.json');
    const s = new PolicyStore(path, log);
    s.replace({ defaults: { pools: 1 }, tenants: {} });
    writeFileSync(path, JSON.stringify({ defaults: { pools: 4 } }));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    assert.equal(s.current().defaults.pools, 4);
    writeFileSync(path, JSON.stringify({ defaults: { pools: -1 } }));
    utimesSync(path, new Date(), new Date(Date.now() + 10_000));
    logs.length = 0;
    assert.equal(s.current().defaults.pools, 4);
    assert.equal(s.current().defaults.pools, 4);
    assert.equal(logs.length, 1, 'reported once, not at every check');
  });

  test('a file that does not parse is refused at start-up with the field to fix', () => {
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify({ defaults: { runtimes: ['kata'] } }));
    assert.throws(() => new PolicyStore(path, log), /defaults\.runtimes\.0/);
    writeFileSync(path, '{');
    assert.throws(() => new PolicyStore(path, log), /not valid JSON/);
    writeFileSync(path, JSON.stringify({ defaults: { runningSandbox: 1 } }));
    assert.throws(() => new PolicyStore(path, log), /runningSandbox/, 'a misspelt limit is not silently ignored');
  });
});
