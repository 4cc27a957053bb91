import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuPercent } from './usage.ts';

test('CPU% is the growth of CPU time over the wall time between two reads', () => {
  // 0.5 s of CPU over 2 s of wall time: a quarter of one CPU.
  assert.equal(cpuPercent({ cpuNanos: 1e9, atMs: 1000 }, { cpuNanos: 1.5e9, atMs: 3000 }), 25);
  // Two CPUs busy: above 100.
  assert.equal(cpuPercent({ cpuNanos: 0, atMs: 0 }, { cpuNanos: 2e9, atMs: 1000 }), 200);
});

test('no CPU% when the total went back or no time passed', () => {
  assert.equal(cpuPercent({ cpuNanos: 5e9, atMs: 0 }, { cpuNanos: 1e9, atMs: 1000 }), undefined);
  assert.equal(cpuPercent({ cpuNanos: 0, atMs: 1000 }, { cpuNanos: 1e9, atMs: 1000 }), undefined);
});
