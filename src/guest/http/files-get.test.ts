import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiateEncoding } from './files-get.ts';

test('negotiateEncoding prefers gzip, falls back to identity, and refuses what it cannot serve', () => {
  assert.equal(negotiateEncoding(undefined), 'identity');
  assert.equal(negotiateEncoding('gzip, deflate, br'), 'gzip');
  assert.equal(negotiateEncoding('br'), 'identity');
  assert.equal(negotiateEncoding('gzip;q=0'), 'identity');
  assert.equal(negotiateEncoding('*'), 'gzip');
  assert.equal(negotiateEncoding('br, identity;q=0'), undefined);
  assert.equal(negotiateEncoding('*;q=0'), undefined);
  assert.equal(negotiateEncoding('identity'), 'identity');
});
