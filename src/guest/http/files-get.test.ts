import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { acceptedEncodings, compresses } from './files-get.ts';

test('acceptedEncodings: gzip and identity as the client weighs them, undefined when it takes neither', () => {
  const both = { gzip: true, identity: true };
  assert.deepEqual(acceptedEncodings(undefined), { gzip: false, identity: true });
  assert.deepEqual(acceptedEncodings('gzip, deflate, br'), both);
  assert.deepEqual(acceptedEncodings('br'), { gzip: false, identity: true });
  assert.deepEqual(acceptedEncodings('gzip;q=0'), { gzip: false, identity: true });
  assert.deepEqual(acceptedEncodings('*'), both);
  assert.deepEqual(acceptedEncodings('gzip, identity;q=0'), { gzip: true, identity: false });
  assert.equal(acceptedEncodings('br, identity;q=0'), undefined);
  assert.equal(acceptedEncodings('*;q=0'), undefined);
  assert.deepEqual(acceptedEncodings('identity'), { gzip: false, identity: true });
});

test('compresses: text and repeated bytes do, random bytes and gzip output do not', () => {
  assert.equal(compresses(Buffer.from('line of text\n'.repeat(1000))), true);
  assert.equal(compresses(Buffer.alloc(65536, 0)), true);
  assert.equal(compresses(randomBytes(65536)), false);
  assert.equal(compresses(gzipSync(randomBytes(4096))), false);
  assert.equal(compresses(Buffer.from('tiny')), false, 'a few bytes grow under gzip');
});
