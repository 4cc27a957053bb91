// Kubernetes quantities as agentbox counts them (src/api/quantity.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentboxError } from './errors.ts';
import { parseCpu, parseMemoryMiB } from './quantity.ts';

const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && re.test(e.message));

test('CPU quantities become cores and memory quantities MiB (rounded up); anything else is refused naming the field', () => {
  assert.equal(parseCpu('500m', 'cpu'), 0.5);
  assert.equal(parseCpu('2', 'cpu'), 2);
  assert.equal(parseCpu('1.5', 'cpu'), 1.5);
  assert.equal(parseMemoryMiB('512Mi', 'memory'), 512);
  assert.equal(parseMemoryMiB('2Gi', 'memory'), 2048);
  assert.equal(parseMemoryMiB('1G', 'memory'), 954);
  assert.equal(parseMemoryMiB('1048576', 'memory'), 1);
  refused(() => parseCpu('0', 'limits.cpu'), /limits\.cpu '0'/);
  refused(() => parseCpu('lots', 'limits.cpu'), /limits\.cpu 'lots'/);
  refused(() => parseMemoryMiB('2GB', 'limits.memory'), /limits\.memory '2GB'/);
});
