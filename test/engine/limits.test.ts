// test-file-guests: typescript native
/** cgroup limits: a memory hog and a fork bomb hurt only their own sandbox. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oomKills } from '../../src/engine/runtime/cgroups.ts';
import { sh, startTestEngine, type TestEngine } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

let t: TestEngine;
before(async () => {
  t = await startTestEngine('limits');
  await t.templates.ensure('busybox');
});
after(() => t.cleanup());

/** Doubles a string until memory runs out. */
const HOG = `awk 'BEGIN { s = "xxxxxxxxxxxxxxxx"; while (1) s = s s }'`;
/**
 * Starts up to 400 long sleeps, recording how many it got in /tmp/n with shell builtins only
 * (no fork). None ends while the bomb runs, so the count is exactly what the limit allowed; the
 * shell dies with "can't fork" when the limit is reached.
 */
const FORK_BOMB = 'n=0; while [ $n -lt 400 ]; do sleep 600 & n=$((n+1)); echo $n > /tmp/n; done';

describe('memory limit', () => {
  it('runc: the kernel OOM-kills the hog inside its sandbox; the sandbox and its neighbour live on', async () => {
    const hog = await t.engine.run({ template: 'busybox', runtime: 'runc', limits: { memoryMiB: 96 } });
    const neighbour = await t.engine.run({ template: 'busybox', runtime: 'runc' });
    const res = await t.engine.exec(hog.id, { cmd: ['/bin/sh', '-c', HOG] });
    // Killed by the kernel's OOM killer in its own memory cgroup, not failing some other way.
    assert.match(res.status ?? '', /killed/, `exit ${res.exitCode} (${res.status}): ${res.stderr}`);
    assert.ok((await oomKills(hog.id)) >= 1, 'the OOM killer acted in the sandbox\'s cgroup');
    assert.equal(await sh(t.engine, hog.id, 'echo alive'), 'alive');
    assert.equal(await sh(t.engine, neighbour.id, 'echo alive'), 'alive');
    await t.engine.destroy(hog.id);
    await t.engine.destroy(neighbour.id);
  });

  it('gvisor: a memory hog ends itself or its own sandbox, never its neighbour', async () => {
    const hog = await t.engine.run({ template: 'busybox', limits: { memoryMiB: 96 } });
    const neighbour = await t.engine.run({ template: 'busybox' });
    const res = await t.engine.exec(hog.id, { cmd: ['/bin/sh', '-c', `${HOG}; echo "hog ended $?"`] }).catch(() => undefined);
    if (res?.stdout.includes('hog ended 137')) {
      // gVisor's own OOM killer stopped the process before the host's limit stopped the sentry:
      // the hog's memory was the sandbox's, the guest's small enough to leave it room (the
      // native guest, crates/guest). The sandbox works on, as under runc.
      assert.equal(await sh(t.engine, hog.id, 'echo alive'), 'alive');
      assert.equal(t.engine.get(hog.id).state, 'running');
    } else {
      // The host's OOM killer stopped the sentry: the whole sandbox ends, reported failed.
      await assert.rejects(t.engine.exec(hog.id, { cmd: ['true'] }));
      // The engine's liveness check (every second) finds the sentry gone; an exec can see the
      // connection drop before it does.
      await waitFor('the hog reported failed', () => t.engine.get(hog.id).state === 'failed', 10_000);
      assert.match(t.engine.get(hog.id).error ?? '', /memory/);
    }
    assert.equal(await sh(t.engine, neighbour.id, 'echo alive'), 'alive');
    await t.engine.destroy(hog.id);
    await t.engine.destroy(neighbour.id);
  });
});

describe('pids limit', () => {
  for (const runtime of ['gvisor', 'runc'] as const) {
    it(`${runtime}: a fork bomb stops at the limit and the sandbox keeps working`, async () => {
      const s = await t.engine.run({ template: 'busybox', runtime, limits: { pids: 64 } });
      const bomb = await t.engine.exec(s.id, { cmd: ['/bin/sh', '-c', FORK_BOMB] });
      assert.notEqual(bomb.exitCode, 0);
      assert.match(bomb.stderr, /can't fork|Resource temporarily unavailable/);
      // The sandbox is full of sleeps: nothing new can start, but the guest still serves
      // files and health without forking.
      const read = await fetch(`${s.guest.url}/files?path=/tmp/n&username=root`, { headers: { 'x-access-token': s.guest.accessToken } });
      assert.equal(read.status, 200);
      const started = Number((await read.text()).trim());
      // Far below the 400 attempted. On a quiet machine it stays below the limit, which counts
      // the guest daemon's own tasks and the bomb's shell too (50-55 here). Under load gVisor's
      // in-sandbox pids count lets a burst of forks pass it: 63-72 were measured on 2026-12-01
      // with other sandboxes booting, for booted sandboxes and golden copies alike. runc's
      // kernel count is exact.
      const bound = runtime === 'runc' ? 64 : 64 + 32;
      assert.ok(started > 30 && started < bound, `started ${started} processes under a limit of 64`);
      assert.equal((await fetch(`${s.guest.url}/health`)).status, 204);
      assert.equal(t.engine.get(s.id).state, 'running');
      await t.engine.destroy(s.id);
    });
  }
});
