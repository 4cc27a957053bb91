import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtyOutput } from './pty-output.ts';

test('offsets count every byte; since() returns the bytes from an offset on', () => {
  const out = new PtyOutput(100);
  out.append(Buffer.from('hello '));
  out.append(Buffer.from('world'));
  assert.equal(out.end, 11);
  assert.deepEqual(out.since(6), { offset: 6, data: Buffer.from('world') });
  assert.deepEqual(out.since(0), { offset: 0, data: Buffer.from('hello world') });
  assert.deepEqual(out.since(11), { offset: 11, data: Buffer.alloc(0) });
  // An offset past the end replays nothing rather than failing.
  assert.deepEqual(out.since(50), { offset: 11, data: Buffer.alloc(0) });
});

test('only the last `capacity` bytes are kept; an older offset replays from the oldest kept byte', () => {
  const out = new PtyOutput(8);
  out.append(Buffer.from('abcdef'));
  out.append(Buffer.from('ghijkl'));
  assert.equal(out.end, 12);
  assert.equal(out.start, 4);
  assert.deepEqual(out.since(0), { offset: 4, data: Buffer.from('efghijkl') });
  assert.deepEqual(out.since(10), { offset: 10, data: Buffer.from('kl') });
  // One chunk larger than the whole capacity keeps only its tail.
  out.append(Buffer.from('0123456789'));
  assert.deepEqual(out.since(0), { offset: 14, data: Buffer.from('23456789') });
});
