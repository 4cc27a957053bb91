import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMetrics, pointBetween, total } from './prometheus.ts';

const scrape = (creates: number, execCount: number, execSum: number) => parseMetrics([
  '# HELP agentbox_operation_duration_seconds Latency',
  '# TYPE agentbox_operation_duration_seconds histogram',
  `agentbox_operation_duration_seconds_bucket{le="0.1",op="create"} ${creates}`,
  `agentbox_operation_duration_seconds_sum{op="create"} ${creates * 0.5}`,
  `agentbox_operation_duration_seconds_count{op="create"} ${creates}`,
  `agentbox_operation_duration_seconds_sum{op="exec"} ${execSum}`,
  `agentbox_operation_duration_seconds_count{op="exec"} ${execCount}`,
  'agentbox_sandboxes{state="running"} 3',
  'agentbox_sandboxes{state="paused"} 1',
  'agentbox_process_process_resident_memory_bytes 104857600',
  'agentbox_pool_size{tenant="a \\"b\\"",template="base",kind="ready"} 2',
].join('\n'));

test('parseMetrics reads names, labels (escapes included) and values; comments are skipped', () => {
  const s = scrape(4, 0, 0);
  assert.equal(s.length, 9);
  assert.deepEqual(s.at(-1), { name: 'agentbox_pool_size', labels: { tenant: 'a "b"', template: 'base', kind: 'ready' }, value: 2 });
  assert.equal(total(s, 'agentbox_sandboxes'), 4);
  assert.equal(total(s, 'agentbox_sandboxes', { state: 'paused' }), 1);
});

test('pointBetween: rates and mean latencies over the interval, gauges as they are now', () => {
  const p = pointBetween(scrape(4, 10, 0.5), scrape(10, 12, 0.54), 2);
  assert.equal(p.createsPerSecond, 3);
  assert.equal(p.claimsPerSecond, 0);
  assert.equal(p.claimMs, null, 'no claim finished in between: no latency, not zero');
  assert.ok(Math.abs(p.execMs! - 20) < 1e-9);
  assert.deepEqual(p.sandboxes, { running: 3, paused: 1, creating: 0, pooled: 0, failed: 0 });
  assert.equal(p.residentMiB, 100);
});
