// The metrics window: agentbox's one current sample is in a window that reaches into the
// sandbox's life (time is a parameter: docs/architecture.md).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sampleInWindow } from './control.ts';

it('the current sample is in a window over the life so far, not one before the start or after now', () => {
  const started = 1_000_000; // ms
  const now = 5_000_000;
  assert.equal(sampleInWindow({}, started, now), true);
  assert.equal(sampleInWindow({ start: 0, end: 10_000 }, started, now), true);
  assert.equal(sampleInWindow({ start: 5_000 }, started, now), true);
  assert.equal(sampleInWindow({ start: 5_001 }, started, now), false);
  assert.equal(sampleInWindow({ end: 1_000 }, started, now), true);
  assert.equal(sampleInWindow({ end: 999 }, started, now), false);
});
