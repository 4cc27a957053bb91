// Signed file URLs: which requests are signed ones, and how the sandbox is found from the
// signature alone (the sandboxes' tokens are a list here; the server searches its engine's).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentboxError } from '../../api/errors.ts';
import { fileSignature } from '../../api/file-signature.ts';
import { sandboxOfSignedFile, signedFileRequest, type GuestTokenSearch } from './signed-files.ts';

const TOKENS: Record<string, string> = { sbxa: 'token-a', sbxb: 'token-b' };
const search: GuestTokenSearch = (matches) => Object.keys(TOKENS).find((id) => matches(TOKENS[id]!));
const NOW = 1_800_000_000_000;

function signed(path: string, op: 'read' | 'write', token: string, exp?: number, username = ''): string {
  const q = new URLSearchParams({ path, signature: fileSignature(path, op, username, token, exp) });
  if (username) q.set('username', username);
  if (exp !== undefined) q.set('signature_expiration', String(exp));
  return `/files?${q}`;
}

const refusal = (message: string) => (err: unknown) => err instanceof AgentboxError && err.httpStatus === 401 && err.message === message;

describe('signed file requests', () => {
  it('GET is a read and POST a write of /files with a signature; anything else is not a signed file request', () => {
    assert.equal(signedFileRequest('GET', signed('a.txt', 'read', 't'))?.op, 'read');
    assert.equal(signedFileRequest('POST', signed('a.txt', 'write', 't'))?.op, 'write');
    assert.equal(signedFileRequest('DELETE', signed('a.txt', 'read', 't')), undefined);
    assert.equal(signedFileRequest('GET', '/files?path=a.txt'), undefined);
    assert.equal(signedFileRequest('GET', '/other?signature=v1_x'), undefined);
  });

  it('finds the one sandbox whose token made the signature, for that path, operation and user', () => {
    assert.equal(sandboxOfSignedFile(signedFileRequest('GET', signed('a.txt', 'read', 'token-b'))!, search, NOW), 'sbxb');
    assert.equal(sandboxOfSignedFile(signedFileRequest('POST', signed('a.txt', 'write', 'token-a', undefined, 'root'))!, search, NOW), 'sbxa');
    // A read signature used for a write, or moved to another path, matches no sandbox.
    const read = new URL(signed('a.txt', 'read', 'token-a'), 'http://x');
    assert.throws(() => sandboxOfSignedFile(signedFileRequest('POST', `${read.pathname}${read.search}`)!, search, NOW), refusal('invalid signature'));
    read.searchParams.set('path', 'b.txt');
    assert.throws(() => sandboxOfSignedFile(signedFileRequest('GET', `${read.pathname}${read.search}`)!, search, NOW), refusal('invalid signature'));
  });

  it('a signature of no sandbox is refused the same way whatever sandboxes exist', () => {
    assert.throws(() => sandboxOfSignedFile(signedFileRequest('GET', signed('a.txt', 'read', 'token-gone'))!, search, NOW), refusal('invalid signature'));
    assert.throws(() => sandboxOfSignedFile(signedFileRequest('GET', signed('a.txt', 'read', 'token-a'))!, () => undefined, NOW), refusal('invalid signature'));
  });

  it('expiry: checked after the signature, so a forged expired URL says invalid, a real one expired', () => {
    const past = NOW / 1000 - 10;
    const future = NOW / 1000 + 10;
    assert.equal(sandboxOfSignedFile(signedFileRequest('GET', signed('a.txt', 'read', 'token-a', future))!, search, NOW), 'sbxa');
    assert.throws(() => sandboxOfSignedFile(signedFileRequest('GET', signed('a.txt', 'read', 'token-a', past))!, search, NOW), refusal('signature is already expired'));
    assert.throws(() => sandboxOfSignedFile(signedFileRequest('GET', signed('a.txt', 'read', 'token-x', past))!, search, NOW), refusal('invalid signature'));
  });

  it('an expiry that is not an integer is refused as an invalid signature', () => {
    assert.throws(() => signedFileRequest('GET', '/files?path=a&signature=v1_x&signature_expiration=soon'), refusal('invalid signature'));
  });
});
