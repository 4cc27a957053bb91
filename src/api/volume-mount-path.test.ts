import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMountPaths, mountListProblems, mountPathProblem } from './volume-mount-path.ts';

test('ordinary absolute paths are mount points', () => {
  for (const p of ['/data', '/home/user/shared', '/mnt/v1', '/etc/myapp', '/optional', '/devices']) assert.equal(mountPathProblem(p), undefined, p);
});

test('relative, unnormalised and traversing paths are refused', () => {
  for (const p of ['', 'data', './data', '/data/', '/data/../etc', '/a/./b', '//data', '/data//x', '/x\0y']) assert.ok(mountPathProblem(p), p);
});

test('the kernel interfaces, the guest daemon and what hides them are refused', () => {
  for (const p of ['/', '/proc', '/proc/1', '/sys', '/sys/fs', '/dev', '/dev/shm', '/opt', '/opt/agentbox', '/opt/agentbox/bin', '/.agentbox', '/run', '/run/agentbox-guest', '/etc', '/etc/hosts', '/etc/resolv.conf']) {
    assert.match(mountPathProblem(p) ?? '', /would cover or hide/, p);
  }
});

test('a list names every bad mount by index, duplicates included', () => {
  assert.deepEqual(mountListProblems([{ path: '/a' }, { path: 'b' }, { path: '/a' }, { path: '/proc' }]).map((x) => x.index), [1, 2, 3]);
  assert.deepEqual(mountListProblems([{ path: '/a' }, { path: '/b' }]), []);
});

test('checkMountPaths throws one invalid_argument naming each bad mount, and passes good ones', () => {
  assert.throws(() => checkMountPaths([{ path: '/ok' }, { path: 'rel' }, { path: '/proc' }]), (e: { code?: string; message?: string }) =>
    e.code === 'invalid_argument' && /^invalid mounts: volume mount #1: path must be absolute; volume mount #2: .*\/proc/.test(e.message ?? ''));
  checkMountPaths([{ path: '/a' }, { path: '/b' }]);
});
