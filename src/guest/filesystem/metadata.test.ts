// User metadata as xattrs (envd 0.6.2) on this machine's real file system (ext4/tmpfs keep user xattrs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { MAX_METADATA_KEY_BYTES, metadataFromHeaders, readMetadata, validateMetadata, writeMetadata } from './metadata.ts';

const refused = (re: RegExp) => (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && re.test(e.message);

test('metadataFromHeaders: X-Metadata-* only, keys lowercased, the first of a repeated header, no empty key', () => {
  assert.deepEqual(metadataFromHeaders({
    'x-metadata-author': ['mish', 'second'], 'X-Metadata-Purpose': ['upload'], 'x-metadata-': ['dropped'], 'content-type': ['text/plain'],
  }), { author: 'mish', purpose: 'upload' });
  assert.deepEqual(metadataFromHeaders({ 'x-access-token': ['t'] }), {});
});

test('validateMetadata: printable US-ASCII, a key within the xattr name limit, 4 KiB in all', () => {
  validateMetadata({ author: 'mish', 'a.b_c~!': ' spaced value ~' });
  validateMetadata({ ['k'.repeat(MAX_METADATA_KEY_BYTES)]: 'v' });
  assert.throws(() => validateMetadata({ ['k'.repeat(MAX_METADATA_KEY_BYTES + 1)]: 'v' }), refused(/longer than 246 bytes/));
  assert.throws(() => validateMetadata({ k: 'caf\u00e9' }), refused(/value for key 'k' must be printable US-ASCII/));
  assert.throws(() => validateMetadata({ 'k\n': 'v' }), refused(/key .* must be printable US-ASCII/));
  assert.throws(() => validateMetadata({ a: 'x'.repeat(2100), b: 'y'.repeat(2100) }), refused(/more than 4096/));
});

test('writeMetadata replaces the set as user.e2b.* xattrs; readMetadata sees only that namespace', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-metadata-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'x');
  assert.equal(readMetadata(file), undefined);
  writeMetadata(file, { author: 'mish', purpose: 'upload' });
  assert.deepEqual(readMetadata(file), { author: 'mish', purpose: 'upload' });
  // Written by another tool, as E2B's own test does with setfattr: only user.e2b.* is metadata.
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.e2b.tool", b"py"); os.setxattr(sys.argv[1], "user.other", b"x")', file]);
  assert.deepEqual(readMetadata(file), { author: 'mish', purpose: 'upload', tool: 'py' });
  writeMetadata(file, { author: 'kept' });
  assert.deepEqual(readMetadata(file), { author: 'kept' });
  const names = execFileSync('python3', ['-c', 'import os,sys; print(" ".join(sorted(os.listxattr(sys.argv[1]))))', file], { encoding: 'utf8' }).trim();
  assert.equal(names, 'user.e2b.author user.other', 'a stale key is removed; other namespaces are left alone');
  writeMetadata(file, {});
  assert.equal(readMetadata(file), undefined);
});

test('a file system without user xattrs keeps no metadata and is no error, as envd', () => {
  writeMetadata('/proc/self/status', { k: 'v' });
  assert.equal(readMetadata('/proc/self/status'), undefined);
  assert.equal(readMetadata('/nonexistent/agentbox'), undefined);
});

test('a missing file is not_found', () => {
  assert.throws(() => writeMetadata('/nonexistent/agentbox', { k: 'v' }), (e: unknown) => e instanceof AgentboxError && e.code === 'not_found');
});
