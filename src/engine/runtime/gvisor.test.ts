import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gvisor, resolveSystrapFastPath } from './gvisor.ts';

test('systrap\'s fast path: auto turns it off on two CPUs or fewer and leaves gVisor\'s choice above; a setting wins', () => {
  assert.equal(resolveSystrapFastPath('auto', 1), 'off');
  assert.equal(resolveSystrapFastPath('auto', 2), 'off');
  assert.equal(resolveSystrapFastPath('auto', 3), 'adaptive');
  assert.equal(resolveSystrapFastPath('auto', 64), 'adaptive');
  assert.equal(resolveSystrapFastPath('adaptive', 2), 'adaptive');
  assert.equal(resolveSystrapFastPath('off', 64), 'off');
});

test('runsc is told to disable the fast path only when it is off', () => {
  const flag = '--systrap-disable-fast-path';
  assert.equal(gvisor.globalFlags('/state', { platform: 'systrap', systrapFastPath: 'off' }).includes(flag), true);
  assert.equal(gvisor.globalFlags('/state', { platform: 'systrap', systrapFastPath: 'adaptive' }).includes(flag), false);
  assert.equal(gvisor.globalFlags('/state', { platform: 'ptrace' }).includes(flag), false);
});
