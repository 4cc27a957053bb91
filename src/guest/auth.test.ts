import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { basicAuthUser, fileSignature } from './auth.ts';

test('fileSignature is v1_ + unpadded base64 sha256 of path:op:user:token[:exp]', () => {
  const digest = (s: string) => createHash('sha256').update(s).digest('base64').replace(/=+$/, '');
  assert.equal(fileSignature('/a', 'read', '', 't'), 'v1_' + digest('/a:read::t'));
  assert.equal(fileSignature('/a', 'write', 'user', 't', 99), 'v1_' + digest('/a:write:user:t:99'));
  assert.ok(!fileSignature('/x', 'read', '', 'tok').includes('='));
});

test('basicAuthUser reads "<user>:" and treats an empty name as absent', () => {
  const b = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.equal(basicAuthUser(b('user:')), 'user');
  assert.equal(basicAuthUser(b('root:ignored')), 'root');
  assert.equal(basicAuthUser(b(':')), undefined);
  assert.equal(basicAuthUser(undefined), undefined);
  assert.throws(() => basicAuthUser('Bearer x'), /Basic/);
});
