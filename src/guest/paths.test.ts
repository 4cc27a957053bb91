import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUserPath } from './paths.ts';

test('resolveUserPath expands ~ and resolves relative paths against the base', () => {
  assert.equal(resolveUserPath('~', '/home/user'), '/home/user');
  assert.equal(resolveUserPath('~/a/../b', '/home/user'), '/home/user/b');
  assert.equal(resolveUserPath('x/y', '/home/user'), '/home/user/x/y');
  assert.equal(resolveUserPath('x', '/home/user', '/work'), '/work/x');
  assert.equal(resolveUserPath('/etc//passwd', '/home/user'), '/etc/passwd');
});
