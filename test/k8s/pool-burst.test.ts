// Claims under a burst, with the stand-in kubelet (tests play it by patching pod status): a pool
// refills its whole shortfall in one step, a claim waits only for a starting member nobody else
// counts on (woken by its events, not a polling step), and the rest start cold at once, so a
// burst larger than the pool is served as fast as pods start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from '../../src/k8s/client.ts';
import { CLAIMS, SANDBOXES, WARM_POOLS } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox, SandboxClaim, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { autoKubelet, ensureEnv, waitFor } from './harness.ts';
import { extensionsFixture } from './extensions-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s pool burst tests: ${skip}`);

/** Pool-member creates the operator has in flight (members are the Sandboxes made with generateName). */
const creates = { inFlight: 0, maxInFlight: 0, total: 0 };
function countingMemberCreates(client: KubeClient): KubeClient {
  const wrapped = Object.create(client) as KubeClient;
  wrapped.create = (async (rt, ns, obj: KubeObject) => {
    if (rt !== SANDBOXES || !obj.metadata.generateName) return client.create(rt, ns, obj);
    creates.total++;
    creates.maxInFlight = Math.max(creates.maxInFlight, ++creates.inFlight);
    try { return await client.create(rt, ns, obj); } finally { creates.inFlight--; }
  }) as KubeClient['create'];
  return wrapped;
}

describe('warm pool and claims under a burst', { skip: skip ?? false }, () => {
  // A generous wait ceiling: the waits below end by events, never by the ceiling.
  const f = extensionsFixture('burst', { wrapClient: countingMemberCreates, operator: { claimMaxWarmWaitMs: 120_000 } });

  it('creates a pool\'s whole shortfall in one step', async () => {
    const { client, ns } = f;
    await f.template('tpl-s');
    await f.pool('pool-s', 'tpl-s', 0);
    await waitFor('pool-s observed', async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-s')).status?.replicas === 0 ? true : null, 15_000);
    Object.assign(creates, { inFlight: 0, maxInFlight: 0, total: 0 });
    await client.patch(WARM_POOLS, ns, 'pool-s', { spec: { replicas: 8 } });
    await waitFor('8 members', async () => ((await f.members('pool-s')).length === 8 ? true : null), 15_000);
    assert.equal(creates.total, 8);
    assert.equal(creates.maxInFlight, 8, 'all 8 creates in flight together (not batches of 1, 2, 4…)');
  });

  it('lets a claim wait only for a starting member nobody counts on; the next one starts cold at once', async () => {
    const { client, ns } = f;
    await f.template('tpl-w');
    await f.pool('pool-w', 'tpl-w', 2);
    await waitFor('2 starting members', async () => ((await f.members('pool-w')).length === 2 ? true : null), 15_000);
    await f.claim('w1', 'pool-w');
    await f.claim('w2', 'pool-w');
    await f.claimReason('w1', 'DependenciesNotReady');
    await f.claimReason('w2', 'DependenciesNotReady');
    await f.claim('w3', 'pool-w');
    await waitFor('w3 cold-starts its own Sandbox', () => client.getOrNull(SANDBOXES, ns, 'w3'), 15_000);
    // The two that count on the starting members are still waiting for them, not gone cold.
    assert.equal(await client.getOrNull(SANDBOXES, ns, 'w1'), null);
    assert.equal(await client.getOrNull(SANDBOXES, ns, 'w2'), null);

    const stopKubelet = autoKubelet(client, ns);
    try {
      for (const name of ['w1', 'w2', 'w3']) await f.claimReason(name, 'DependenciesReady', 30_000);
    } finally { await stopKubelet(); }
    const bound = await Promise.all(['w1', 'w2', 'w3'].map(async (n) => (await client.get<SandboxClaim>(CLAIMS, ns, n)).status?.sandbox?.name));
    assert.match(bound[0]!, /^pool-w-/, 'w1 adopted the member it waited for');
    assert.match(bound[1]!, /^pool-w-/, 'w2 adopted the member it waited for');
    assert.notEqual(bound[0], bound[1]);
    assert.equal(bound[2], 'w3');
    // None of these claims names its client: the Sandboxes say the controller made them (a claimed
    // pool member keeps `controller`, it does not turn `unknown`), and so do their pods.
    for (const name of bound) {
      const sb = await client.get<Sandbox>(SANDBOXES, ns, name!);
      assert.equal(sb.metadata.labels?.['agents.x-k8s.io/created-by'], 'controller', name);
      assert.equal(sb.spec.podTemplate.metadata?.labels?.['agents.x-k8s.io/created-by'], 'controller', name);
    }
  });

  it('binds every claim of a burst larger than the pool, each to its own Sandbox, and refills the pool', async () => {
    const { client, ns } = f;
    await f.readyPool('pool-b', 6);
    const stopKubelet = autoKubelet(client, ns);
    try {
      const names = Array.from({ length: 24 }, (_, i) => `b${i}`);
      await Promise.all(names.map((n) => f.claim(n, 'pool-b')));
      const claims = await Promise.all(names.map((n) => f.claimReason(n, 'DependenciesReady', 60_000)));
      const bound = claims.map((c) => c.status!.sandbox!.name!);
      assert.equal(new Set(bound).size, 24, 'no Sandbox is shared');
      assert.ok(bound.filter((b) => b.startsWith('pool-b-')).length >= 6, 'at least the 6 warm members were handed out');
      await f.readyMembers('pool-b', 6);
    } finally { await stopKubelet(); }
  });
});
