import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountListProblems, mountPathProblem } from './mount-path.ts';

test('ordinary absolute paths are mount points', () => {
  for (const p of ['/data', '/home/user/shared', '/mnt/v1', '/etc/myapp', '/optional', '/devices']) assert.equal(mountPathProblem(p), undefined, p);
});

test('relative, unnormalised and traversing paths are refused', () => {
  for (const p of ['', 'data', './data', '/data/', '/data/../etc', '/a/./b', '//data', '/data//x', '/x\0y']) assert.ok(mountPathProblem(p), p);
});

test('the kernel interfaces, the guest daemon and what hides them are refused', () => {
  for (const p of ['/', '/proc', '/proc/1', '/sys', '/sys/fs', '/dev', '/dev/shm', '/opt', '/opt/agentbox', '/opt/agentbox/bin', '/.agentbox', '/etc', '/etc/hosts', '/etc/resolv.conf']) {
    assert.match(mountPathProblem(p) ?? '', /would cover or hide/, p);
  }
});

test('a list names every bad mount by index, duplicates included', () => {
  assert.deepEqual(mountListProblems([{ path: '/a' }, { path: 'b' }, { path: '/a' }, { path: '/proc' }]).map((x) => x.index), [1, 2, 3]);
  assert.deepEqual(mountListProblems([{ path: '/a' }, { path: '/b' }]), []);
});
