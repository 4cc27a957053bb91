// Warm pools and timers over real SQLite + HTTP with the FAKE engine (test/support/fake-engine.ts):
// what is tested here is claim atomicity and timer logic, which do not depend on isolation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { waitFor } from '../support/wait.ts';

const pool = async (s: FakeServer, t = 'busybox') => (await (await s.api(`/v1/pools/${t}`)).json()) as { size: number; ready: number; starting: number };

describe('warm pools', () => {
  test('100 concurrent creates against a pool of 10 give 100 distinct sandboxes', async () => {
    const s = await startFakeServer({ startDelayMs: 5 });
    try {
      assert.equal((await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: 10 } })).status, 200);
      await waitFor('pool ready', async () => (await pool(s)).ready === 10);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', metadata: { i: String(i) }, env: { N: String(i) } } }).then(async (r) => {
          assert.equal(r.status, 201);
          return (await r.json()) as { id: string; fromPool: boolean; metadata: { i: string } };
        })));
      const ids = new Set(results.map((r) => r.id));
      assert.equal(ids.size, 100);
      const claimed = results.filter((r) => r.fromPool);
      assert.ok(claimed.length >= 10, `at least the 10 warm ones were claimed, got ${claimed.length}`);
      results.forEach((r, i) => assert.equal(r.metadata.i, String(i)));
      // Env given at claim reaches commands in a warm sandbox.
      const w = claimed[0]!;
      const i = results.indexOf(w);
      const out = await (await s.api(`/v1/sandboxes/${w.id}/exec`, { method: 'POST', json: { cmd: 'echo $N' } })).json();
      assert.equal(out.stdout, `${i}\n`);
      // The pool refills in the background, and pooled sandboxes never show in listings.
      await waitFor('refill', async () => (await pool(s)).ready === 10);
      const listed = await (await s.api('/v1/sandboxes?limit=1000')).json();
      assert.equal(listed.sandboxes.length, 100);
      // Shrinking the pool destroys unclaimed ones only.
      await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: 2 } });
      await waitFor('shrink', async () => (await pool(s)).ready === 2);
      assert.equal((await s.api('/v1/pools/busybox', { method: 'DELETE' })).status, 204);
      await waitFor('pool gone', () => s.engine.list().length === 100);
    } finally {
      await s.stop();
    }
  });

  test('a claim refills its pool only once the claim\'s refill delay is out', async () => {
    const delayMs = 1500;
    const s = await startFakeServer({ poolClaimRefillDelayMs: delayMs });
    try {
      await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: 3 } });
      await waitFor('pool ready', async () => (await pool(s)).ready === 3);
      const claimedAt = Date.now();
      for (let i = 0; i < 2; i++) {
        const r = await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox' } })).json();
        assert.equal(r.fromPool, true);
      }
      // The fake engine starts a sandbox at once: a refill started with the claim would show here.
      await new Promise((r) => setTimeout(r, 300));
      const early = await pool(s);
      if (Date.now() - claimedAt < delayMs) assert.deepEqual({ ready: early.ready, starting: early.starting }, { ready: 1, starting: 0 }, 'nothing starts before the delay is out');
      await waitFor('refilled after the delay', async () => (await pool(s)).ready === 3);
      assert.ok(Date.now() - claimedAt >= delayMs, 'not before the delay');
    } finally {
      await s.stop();
    }
  });

  test('pools are per tenant', async () => {
    const s = await startFakeServer();
    try {
      const k = (await (await s.api('/v1/keys', { method: 'POST', json: { tenant: 'other' } })).json()).key;
      await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: 1 } });
      await waitFor('pool ready', async () => (await pool(s)).ready === 1);
      assert.deepEqual((await (await s.api('/v1/pools', { key: k })).json()).pools, []);
      const r = await (await s.api('/v1/sandboxes', { method: 'POST', key: k, json: { template: 'busybox' } })).json();
      assert.equal(r.fromPool, false, 'another tenant never gets this tenant\'s warm sandbox');
    } finally {
      await s.stop();
    }
  });

  test('a pool whose template cannot start backs off instead of spinning', async () => {
    const s = await startFakeServer();
    try {
      const creates = () => s.engine.calls.filter((c) => c.startsWith('create')).length;
      const t0 = Date.now();
      await s.api('/v1/pools/broken', { method: 'PUT', json: { size: 2 } });
      // It keeps trying (at least three rounds of up to two creates)…
      await waitFor('three rounds of fill attempts', async () => creates() >= 6, 10_000);
      // …but each round waits the 200 ms retry first: two waits at least lie between them.
      // (A lower bound on time: a slow machine can only make it larger.)
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 2 * 200, `${creates()} attempts took ${elapsed} ms; without back-off they take a few ms`);
      assert.equal((await pool(s, 'broken')).ready, 0);
      const res = await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'broken' } });
      assert.equal(res.status, 500);
      assert.equal(s.engine.list().length, 0, 'a failed create leaves nothing behind');
    } finally {
      await s.stop();
    }
  });

  test('a pool set again with another runtime replaces its warm sandboxes, and claims get the new runtime', async () => {
    const s = await startFakeServer();
    try {
      const runtimes = () => s.engine.list().map((i) => i.runtime).sort().join(',');
      assert.equal((await (await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: 2, runtime: 'runc' } })).json()).runtime, 'runc');
      await waitFor('two runc members', () => runtimes() === 'runc,runc');
      assert.equal((await s.api('/v1/pools/busybox', { method: 'PUT', json: { size: 2, runtime: 'gvisor' } })).status, 200);
      // The engine lists a member as soon as it is started; the pool offers it only after its
      // warm-up command, so wait for both.
      await waitFor('two ready gvisor members and no runc one', async () => runtimes() === 'gvisor,gvisor' && (await pool(s)).ready === 2);
      const claimed = await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', runtime: 'gvisor' } })).json();
      assert.deepEqual([claimed.fromPool, claimed.runtime], [true, 'gvisor']);
    } finally {
      await s.stop();
    }
  });
});

describe('lifecycle', () => {
  test('onTimeout kill, pause and pause_filesystem, and setTimeout resets the timer', async () => {
    // The server's clock stands still until the test moves it: no real stall can expire `kept`
    // between its create and its new timeout.
    let clock = Date.now();
    const s = await startFakeServer({ now: () => clock });
    try {
      const kill = await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', timeoutSeconds: 1 } })).json();
      const pause = await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', timeoutSeconds: 1, onTimeout: 'pause' } })).json();
      const filesOnly = await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', timeoutSeconds: 1, onTimeout: 'pause_filesystem' } })).json();
      const kept = await (await s.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', timeoutSeconds: 1 } })).json();
      await s.api(`/v1/sandboxes/${kept.id}/timeout`, { method: 'POST', json: { timeoutSeconds: 60 } });
      clock += 2000;
      // An expired sandbox answers 410 sandbox_ended with why, not a bare 404.
      await waitFor('kill on timeout', async () => (await s.api(`/v1/sandboxes/${kill.id}`)).status === 410, 5000);
      const ended = await (await s.api(`/v1/sandboxes/${kill.id}`)).json();
      assert.deepEqual([ended.code, ended.details.reason], ['sandbox_ended', 'expired']);
      await waitFor('pause on timeout', async () => (await (await s.api(`/v1/sandboxes/${pause.id}`)).json()).state === 'paused', 5000);
      await waitFor('filesystem-only pause on timeout', async () => (await (await s.api(`/v1/sandboxes/${filesOnly.id}`)).json()).state === 'paused', 5000);
      assert.ok(s.engine.calls.includes(`pause ${pause.id}`));
      assert.ok(s.engine.calls.includes(`pause ${filesOnly.id} memory=false`));
      assert.equal((await (await s.api(`/v1/sandboxes/${kept.id}`)).json()).state, 'running');
      assert.throws(() => s.engine.get(kill.id), 'a killed sandbox\'s files are removed');
    } finally {
      await s.stop();
    }
  });
});
