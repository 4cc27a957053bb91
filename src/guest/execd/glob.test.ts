import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatcher } from './glob.ts';

test('a pattern without / matches the name at any depth', () => {
  const m = globMatcher('*.py');
  assert.ok(m('a.py') && m('x/y/b.py'));
  assert.ok(!m('a.pyc') && !m('py'));
});

test('a pattern with / matches the relative path; * stays in a segment, ** crosses them', () => {
  assert.ok(globMatcher('a/*.md')('a/n.md'));
  assert.ok(!globMatcher('a/*.md')('a/b/n.md'));
  const deep = globMatcher('a/**/*.md');
  assert.ok(deep('a/n.md') && deep('a/b/c/n.md'));
  assert.ok(!deep('b/n.md'));
});

test('? and classes; regex characters are literal', () => {
  assert.ok(globMatcher('f?.[ch]')('f1.c'));
  assert.ok(!globMatcher('f?.[ch]')('f1.o'));
  assert.ok(globMatcher('[!a]x')('bx') && !globMatcher('[!a]x')('ax'));
  assert.ok(globMatcher('a+b(1).txt')('a+b(1).txt'));
  assert.ok(!globMatcher('a.txt')('abtxt'));
  assert.ok(globMatcher('**')('any/thing'));
});
