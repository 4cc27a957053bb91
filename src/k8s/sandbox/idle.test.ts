import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sandbox } from '../../api/k8s/types.ts';
import { idleDecision, suspendAfterIdle, wakesOnTraffic } from './idle.ts';

const sandbox = (annotations: Record<string, string>) => ({ metadata: { name: 's', annotations }, spec: { podTemplate: { spec: { containers: [] } } } }) as unknown as Sandbox;
const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, s));

test('suspend-after-idle takes whole seconds from 1 to a day and says what is wrong otherwise', () => {
  assert.equal(suspendAfterIdle(sandbox({})), null);
  assert.equal(suspendAfterIdle(sandbox({ 'agentbox.dev/suspend-after-idle': '300' })), 300);
  for (const bad of ['0', '-5', '1.5', '5m', '', '86401']) {
    const v = suspendAfterIdle(sandbox({ 'agentbox.dev/suspend-after-idle': bad }));
    assert.ok(v instanceof Error, bad);
    assert.match(v.message, /give whole seconds from 1 to 86400/);
  }
  assert.equal(wakesOnTraffic(sandbox({ 'agentbox.dev/suspend-after-idle': '5m' })), false);
  assert.equal(wakesOnTraffic(sandbox({ 'agentbox.dev/suspend-after-idle': '30' })), true);
});

test('idle time runs from the later of Ready and the last activity', () => {
  const idle30 = { 'agentbox.dev/suspend-after-idle': '30' };
  assert.deepEqual(idleDecision(sandbox(idle30), at(0), at(10)), { suspend: false, checkAgainMs: 20_000 });
  assert.deepEqual(idleDecision(sandbox(idle30), at(0), at(30)), { suspend: true, idleMs: 30_000 });
  const active = sandbox({ ...idle30, 'agentbox.dev/last-activity': at(25).toISOString() });
  assert.deepEqual(idleDecision(active, at(0), at(40)), { suspend: false, checkAgainMs: 15_000 });
  assert.deepEqual(idleDecision(active, at(0), at(55)), { suspend: true, idleMs: 30_000 });
  // An activity from before the last resume does not shorten the new idle time.
  const old = sandbox({ ...idle30, 'agentbox.dev/last-activity': at(0).toISOString() });
  assert.deepEqual(idleDecision(old, at(20), at(40)), { suspend: false, checkAgainMs: 10_000 });
  assert.deepEqual(idleDecision(sandbox({}), at(0), at(1000)), { suspend: false });
  assert.deepEqual(idleDecision(sandbox(idle30), undefined, at(1000)), { suspend: false }, 'not Ready: nothing to suspend for idleness');
});
