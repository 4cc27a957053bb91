/**
 * H5 (PIDs): the pids limit holds against root inside a gVisor sandbox. The exact limit lives
 * in the sandbox's own cgroupfs, which its root can raise or leave; what must hold then is the
 * host-side backstop: a ceiling per sandbox, derived from the host's pid_max, and one for all
 * sandboxes together (src/engine/runtime/pids-ceiling.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sh, startTestEngine, type TestEngine } from '../engine/fixture.ts';
import { waitFor } from '../support/wait.ts';

const PARENT_MAX = '/sys/fs/cgroup/pids/agentbox/pids.max';
let t: TestEngine;
// Each security file runs its own engine; this one takes the area's second network.
before(async () => {
  // The parent cgroup outlives engines: lift its ceiling so that this engine's start must set it.
  if (existsSync(PARENT_MAX)) writeFileSync(PARENT_MAX, 'max');
  t = await startTestEngine('server-sec-runc');
  await t.templates.ensure('busybox');
});
after(() => t.cleanup());

const PID_MAX = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
const hostPids = (file: string) => readFileSync(`/sys/fs/cgroup/pids/agentbox/${file}`, 'utf8').trim();
const hostTasks = (id: string) => Number(hostPids(`${id}/pids.current`));

describe('pids backstop (gVisor)', () => {
  it('all sandboxes together leave the host a reserve of its pid_max', () => {
    const reserve = Math.max(2048, Math.floor(PID_MAX / 4));
    assert.equal(hostPids('pids.max'), String(PID_MAX - reserve));
  });

  it('root inside raising its pids limit cannot take more host tasks than the backstop', { timeout: 240_000 }, async () => {
    const pids = 64;
    const s = await t.engine.run({ template: 'busybox', limits: { pids } });
    const neighbour = await t.engine.run({ template: 'busybox' });
    const backstop = Number(hostPids(`${s.id}/pids.max`));
    // Three host threads per task plus 256, never more than an eighth of the host's pid_max.
    assert.ok(backstop <= Math.min(pids * 3 + 256, Math.floor(PID_MAX / 8)), `host backstop ${backstop}`);

    // Root undoes the in-sandbox limit: raises it on every level it can see (gVisor's cgroupfs
    // takes no "max"), then the bomb's shell moves itself out of the limited cgroup.
    const raise = 'for f in /sys/fs/cgroup/pids/agentbox/pids.max /sys/fs/cgroup/pids/pids.max; do echo 1000000 > $f || exit 1; done; cat /sys/fs/cgroup/pids/agentbox/pids.max';
    assert.equal(await sh(t.engine, s.id, raise, 'root'), '1000000');
    let peak = 0;
    const watcher = setInterval(() => {
      try { peak = Math.max(peak, hostTasks(s.id)); } catch { /* the cgroup is gone with the sandbox */ }
    }, 20);
    // 1000 sleeps, far past the limit of 64 tasks. The exec may end with the sandbox, so its
    // outcome is not asserted; the host-side counts are.
    const bomb = 'echo $$ > /sys/fs/cgroup/pids/cgroup.procs; i=0; while [ $i -lt 1000 ]; do sleep 600 & i=$((i+1)); done; echo $i';
    await t.engine.exec(s.id, { cmd: ['/bin/sh', '-c', bomb], user: 'root', timeoutMs: 120_000 }).catch(() => undefined);
    clearInterval(watcher);
    try { peak = Math.max(peak, hostTasks(s.id)); } catch { /* gone */ }
    // Either the bomb got EAGAIN at the backstop or the sandbox was stopped by it: in both cases
    // its host tasks never passed the backstop, and the host and the neighbour are unharmed.
    assert.ok(peak <= backstop, `the sandbox reached ${peak} host tasks, backstop ${backstop}`);
    assert.ok(peak > pids, `the bomb got past the in-sandbox limit (peak ${peak}), so the backstop is what held it`);
    assert.equal(await sh(t.engine, neighbour.id, 'echo alive'), 'alive');
    // At the backstop the sentry cannot make threads: the sandbox either still answers, or is
    // stopped and says why (the liveness monitor notices within a second).
    const outcome = await waitFor('the sandbox to answer, or to be stopped for its task limit', async () => {
      const info = t.engine.get(s.id);
      if (info.state === 'failed') return info;
      return (await t.engine.exec(s.id, { cmd: ['true'], timeoutMs: 5000 }).catch(() => undefined))?.exitCode === 0 ? 'answers' : null;
    }, 120_000, 200);
    if (outcome !== 'answers') assert.match(outcome.error ?? '', /task limit/);
    await t.engine.destroy(s.id);
    await t.engine.destroy(neighbour.id);
  });
});
