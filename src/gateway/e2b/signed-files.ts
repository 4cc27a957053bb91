/**
 * Signed file URLs (the SDKs' `downloadUrl`/`uploadUrl`). The SDKs build them as
 * `new URL('/files', <sandbox address>)` plus `path`, `username`, `signature` and
 * `signature_expiration` (npm `e2b` `fileUrl`, PyPI `e2b` `_file_url`), so:
 * - with E2B_SANDBOX_URL the URL is `/files` at the server's root and names no sandbox;
 * - with host routing (SDK 2.0–2.6) it is `49983-<id>.<domain>/files`, without X-Access-Token.
 * A plain HTTP client fetches it with no E2B header. The signature is a digest of the sandbox's
 * guest token, so the one sandbox whose token it was made with is found by recomputing it for
 * each sandbox's token (src/api/file-signature.ts): one SHA-256 per sandbox of the machine per
 * signed request, small next to the file it moves. A signature that matches no token gets the
 * same answer whatever sandboxes exist, so a forged one learns nothing; the signature is checked
 * before its expiry, as envd does, so a forger never learns whether the expiry was the problem.
 * The guest daemon checks the signature again (src/guest/auth.ts requireFileAccess).
 */
import { AgentboxError } from '../../api/errors.ts';
import { fileSignature, type FileOperation } from '../../api/file-signature.ts';
import { sameSecret } from '../../server/same-secret.ts';

/** The sandbox whose guest token satisfies `matches`, if any (one check per sandbox). */
export type GuestTokenSearch = (matches: (token: string) => boolean) => string | undefined;

export interface SignedFileRequest {
  path: string;
  op: FileOperation;
  username: string;
  signature: string;
  /** Unix seconds, when the URL was signed with an expiry. */
  expiration?: number;
}

/** envd's `/files`: GET reads, POST writes. */
const OPERATIONS: Record<string, FileOperation> = { GET: 'read', POST: 'write' };

/** The signed-URL parameters of a request, or undefined when it is not a signed `/files` request. */
export function signedFileRequest(method: string | undefined, url: string): SignedFileRequest | undefined {
  const u = new URL(url, 'http://x');
  const op = OPERATIONS[method ?? 'GET'];
  const signature = u.searchParams.get('signature');
  if (u.pathname !== '/files' || !op || !signature) return undefined;
  const exp = u.searchParams.get('signature_expiration');
  // The expiry is part of what was signed: one that is not an integer matches no signature.
  if (exp !== null && !/^-?\d{1,15}$/.test(exp)) throw invalidSignature();
  return {
    path: u.searchParams.get('path') ?? '', op, username: u.searchParams.get('username') ?? '', signature,
    ...(exp !== null ? { expiration: Number(exp) } : {}),
  };
}

/** envd's answers (E2B's SDK tests read `{code: 401, message: 'signature is already expired'}`). */
const invalidSignature = () => new AgentboxError('unauthenticated', 'invalid signature');
const expiredSignature = () => new AgentboxError('unauthenticated', 'signature is already expired');

/** The sandbox a signed request is for; throws 401 when no sandbox's token made the signature or it expired. */
export function sandboxOfSignedFile(s: SignedFileRequest, search: GuestTokenSearch, nowMs: number): string {
  const id = search((token) => sameSecret(s.signature, fileSignature(s.path, s.op, s.username, token, s.expiration)));
  if (id === undefined) throw invalidSignature();
  if (s.expiration !== undefined && s.expiration * 1000 < nowMs) throw expiredSignature();
  return id;
}
