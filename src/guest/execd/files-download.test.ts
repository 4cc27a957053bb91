import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteRange } from './files-download.ts';

test('byte ranges: closed, open-ended, suffix, clipped to the file', () => {
  assert.deepEqual(byteRange('bytes=0-4', 10), [0, 4]);
  assert.deepEqual(byteRange('bytes=6-', 10), [6, 9]);
  assert.deepEqual(byteRange('bytes=-3', 10), [7, 9]);
  assert.deepEqual(byteRange('bytes=-30', 10), [0, 9]);
  assert.deepEqual(byteRange('bytes=8-100', 10), [8, 9]);
});

test('unsatisfiable ranges are null; malformed ones are refused', () => {
  assert.equal(byteRange('bytes=10-', 10), null);
  assert.equal(byteRange('bytes=5-2', 10), null);
  assert.equal(byteRange('bytes=-0', 10), null);
  for (const bad of ['bytes=-', 'bytes=0-1,3-4', 'items=0-1']) assert.throws(() => byteRange(bad, 10), /one range/);
});
