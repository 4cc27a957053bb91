import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sandbox } from '../../api/k8s/types.ts';
import { ActivityRecorder } from './activity.ts';
import { RouterError } from './errors.ts';
import type { Upstream } from './resolve.ts';
import { Waker } from './wake.ts';

const sandbox = (name: string, annotations: Record<string, string> = { 'agentbox.dev/suspend-after-idle': '30' }, operatingMode = 'Running') =>
  ({ metadata: { namespace: 'ns', name, annotations }, spec: { operatingMode, podTemplate: { spec: { containers: [] } } } }) as unknown as Sandbox;

function recorder() {
  const writes: string[] = [];
  let clock = 0;
  const r = new ActivityRecorder({
    patch: async (ns, name, a) => { writes.push(`${ns}/${name}@${a['agentbox.dev/last-activity']}`); },
    now: () => new Date(Date.UTC(2026, 10, 30, 12, 0, clock)),
    everyMs: 1000,
    onError: () => undefined,
  });
  return { r, writes, tick: (s: number) => { clock = s; } };
}

test('traffic is written once per flush per Sandbox, and an open call keeps its Sandbox active', async () => {
  const { r, writes, tick } = recorder();
  const a = sandbox('a');
  const end1 = r.begin(a);
  const end2 = r.begin(a);
  r.begin(sandbox('untracked', {}))();
  await r.flush();
  assert.deepEqual(writes, ['ns/a@2026-11-30T12:00:00.000Z'], 'one write for two calls; none for a Sandbox that does not suspend when idle');
  end1();
  end1();
  tick(5);
  await r.flush();
  assert.deepEqual(writes.at(-1), 'ns/a@2026-11-30T12:00:05.000Z');
  tick(9);
  await r.flush();
  assert.equal(writes.at(-1), 'ns/a@2026-11-30T12:00:09.000Z', 'still open: the long call keeps it active');
  end2();
  tick(12);
  await r.flush();
  assert.equal(writes.at(-1), 'ns/a@2026-11-30T12:00:12.000Z', 'the end of the last call is activity');
  const n = writes.length;
  tick(20);
  await r.flush();
  assert.equal(writes.length, n, 'nothing open and nothing new: no write');
});

test('a wake resumes a suspended Sandbox once for all waiting requests and holds them until a pod is live', async () => {
  const patches: unknown[] = [];
  let live: Upstream | null = null;
  const sb = sandbox('s', { 'agentbox.dev/suspend-after-idle': '30' }, 'Suspended');
  const deps = {
    patch: async (_ns: string, _name: string, p: unknown) => { patches.push(p); },
    livePod: () => { if (!live) throw new RouterError(502, 'no running pod'); return live; },
    timeoutMs: 10_000, pollMs: 5,
  };
  const waker = new Waker();
  const waiting = [waker.wake(sb, deps), waker.wake(sb, deps)];
  await new Promise((r) => setTimeout(r, 30));
  live = { host: '10.0.0.9', port: 8080, via: 'name', sandbox: sb };
  for (const up of await Promise.all(waiting)) assert.equal(up.host, '10.0.0.9');
  assert.deepEqual(patches, [{ metadata: { annotations: { 'agentbox.dev/suspended-by': null } }, spec: { operatingMode: 'Running' } }]);

  live = null;
  await assert.rejects(waker.wake(sandbox('t'), { ...deps, timeoutMs: 20 }), (e: RouterError) => e.status === 504 && /had no running pod after/.test(e.message));
  await assert.rejects(waker.wake(sandbox('u'), { ...deps, livePod: () => { throw new RouterError(404, 'gone'); } }), (e: RouterError) => e.status === 404);
  assert.equal(patches.length, 1, 'a running Sandbox is not patched');
});
