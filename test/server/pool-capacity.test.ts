// OpenSandbox's pool capacity on one machine (issue 12 section 3): `PUT /v1/pools/{template}`
// with {bufferMin, bufferMax, poolMin, poolMax} (here through the TS SDK's Pools), claims by
// creates, and the status total/allocated/available, over the fake engine. The arithmetic itself
// is src/api/pool-capacity.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Pools } from '../../src/sdk/index.ts';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { waitFor } from '../support/wait.ts';

let srv: FakeServer;
before(async () => { srv = await startFakeServer(); });
after(async () => { await srv?.stop(); });

const conn = () => ({ apiUrl: srv.server.url, apiKey: srv.server.adminKey });
/** The pool's status once it has settled on the expected one (pools fill in the background). */
const settles = (template: string, want: { total: number; allocated: number; available: number }) =>
  waitFor(`pool ${template} at ${JSON.stringify(want)}`, async () => {
    const p = await Pools.get(template, conn());
    return p.total === want.total && p.allocated === want.allocated && p.available === want.available && p.starting === 0 && p;
  });

const claim = async (template: string) => {
  const r = await srv.api('/v1/sandboxes', { method: 'POST', json: { template } });
  assert.equal(r.status, 201);
  return (await r.json()) as { id: string; fromPool: boolean };
};

describe('pool capacity', () => {
  test('poolMin fills the pool, claims are allocated, poolMax caps the total, a kill makes room again', async () => {
    const set = await Pools.set('busybox', { bufferMin: 1, bufferMax: 3, poolMin: 4, poolMax: 5 }, conn());
    assert.deepEqual(set.capacity, { bufferMin: 1, bufferMax: 3, poolMin: 4, poolMax: 5 });
    assert.equal(set.size, 4, 'size reports the most the pool keeps idle');
    await settles('busybox', { total: 4, allocated: 0, available: 4 });

    const claimed = [];
    for (let i = 0; i < 3; i++) claimed.push(await claim('busybox'));
    assert.ok(claimed.every((c) => c.fromPool));
    // 3 allocated + 1 idle: idle is within [1, 3] and the total is at poolMin.
    await settles('busybox', { total: 4, allocated: 3, available: 1 });

    claimed.push(await claim('busybox'));
    // Idle fell below bufferMin: the pool aims at the middle (2) but poolMax 5 leaves room for 1.
    await settles('busybox', { total: 5, allocated: 4, available: 1 });
    claimed.push(await claim('busybox'));
    await settles('busybox', { total: 5, allocated: 5, available: 0 });

    const beyond = await claim('busybox');
    assert.equal(beyond.fromPool, false, 'at poolMax a create starts cold instead of growing the pool');
    assert.equal((await Pools.get('busybox', conn())).total, 5);

    assert.equal((await srv.api(`/v1/sandboxes/${claimed[0]!.id}`, { method: 'DELETE' })).status, 204);
    await settles('busybox', { total: 5, allocated: 4, available: 1 });
    for (const c of [...claimed.slice(1), beyond]) await srv.api(`/v1/sandboxes/${c.id}`, { method: 'DELETE' });
    await Pools.delete('busybox', conn());
  });

  test('size N still keeps N idle and reports the same status', async () => {
    const set = await Pools.set('base', { size: 2 }, conn());
    assert.equal(set.capacity, undefined);
    await settles('base', { total: 2, allocated: 0, available: 2 });
    const c = await claim('base');
    await settles('base', { total: 3, allocated: 1, available: 2 });
    await srv.api(`/v1/sandboxes/${c.id}`, { method: 'DELETE' });
    await settles('base', { total: 2, allocated: 0, available: 2 });
    await Pools.delete('base', conn());
  });

  test('bad capacities are 400 naming the fields; the most a pool keeps idle counts against poolSize', async () => {
    for (const [json, re] of [
      [{ size: 2, bufferMin: 1 }, /either size or all four/],
      [{ bufferMin: 1, bufferMax: 2 }, /either size or all four/],
      [{ bufferMin: 3, bufferMax: 1, poolMin: 0, poolMax: 5 }, /bufferMin 3 is above bufferMax 1/],
      [{ bufferMin: 0, bufferMax: 1, poolMin: 6, poolMax: 5 }, /poolMin 6 is above poolMax 5/],
    ] as const) {
      const r = await srv.api('/v1/pools/busybox', { method: 'PUT', json });
      assert.equal(r.status, 400, JSON.stringify(json));
      const b = await r.json();
      assert.equal(b.code, 'invalid_argument');
      assert.match(b.message, re);
    }
    const key = (await (await srv.api('/v1/keys', { method: 'POST', json: { tenant: 'capped' } })).json()).key as string;
    // The default policy's poolSize is 2: poolMin 3 would keep 3 idle.
    const r = await srv.api('/v1/pools/busybox', { method: 'PUT', key, json: { bufferMin: 0, bufferMax: 1, poolMin: 3, poolMax: 9 } });
    assert.equal(r.status, 429);
    assert.equal((await r.json()).details.limit, 'poolSize');
    assert.equal((await srv.api('/v1/pools/busybox', { method: 'PUT', key, json: { bufferMin: 0, bufferMax: 2, poolMin: 1, poolMax: 9 } })).status, 200);
  });
});
