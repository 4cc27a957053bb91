/**
 * Who may call and as whom (E2B's published spec, github.com/e2b-dev/E2B `spec/`): the X-Access-Token check, the
 * Basic-auth user selection, and the v1_ signatures that make /files URLs shareable.
 */
import { timingSafeEqual } from 'node:crypto';
import { AgentboxError } from '../api/errors.ts';
import { fileSignature } from '../api/file-signature.ts';
import type { GuestContext } from './context.ts';
import type { OsUser } from './users.ts';

// Computed by the E2B façade too (it finds a signed URL's sandbox), so it lives on the ground floor.
export { fileSignature };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when no token is configured or `given` equals it. */
export function tokenAccepted(ctx: GuestContext, given: string | null | undefined): boolean {
  const want = ctx.state.accessToken;
  return want === undefined || (typeof given === 'string' && sameSecret(given, want));
}

export function requireToken(ctx: GuestContext, given: string | null | undefined): void {
  if (!tokenAccepted(ctx, given)) {
    throw new AgentboxError('unauthenticated', 'missing or wrong X-Access-Token; use the envdAccessToken of this sandbox');
  }
}

/** The username from `Authorization: Basic base64("<user>:")`, or undefined when absent. */
export function basicAuthUser(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(header.trim());
  if (!m) throw new AgentboxError('unauthenticated', 'Authorization must be Basic base64("<user>:")');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const name = colon === -1 ? decoded : decoded.slice(0, colon);
  return name === '' ? undefined : name;
}

/** The OS user a request runs as: the named one, else the default; unknown names are refused. */
export function resolveUser(ctx: GuestContext, name: string | undefined): OsUser {
  const wanted = name ?? ctx.state.defaultUser;
  const user = ctx.users.byName(wanted);
  if (!user) throw new AgentboxError('unauthenticated', `user '${wanted}' does not exist in this sandbox's /etc/passwd`);
  return user;
}

export interface FileAuth {
  token: string | null | undefined;
  signature: string | null;
  expiration: string | null;
  path: string;
  op: 'read' | 'write';
  username: string;
  nowMs: number;
}

/** /files is allowed with the token header or a valid, unexpired signature for that path, op and user. */
export function requireFileAccess(ctx: GuestContext, a: FileAuth): void {
  const token = ctx.state.accessToken;
  if (token === undefined || tokenAccepted(ctx, a.token)) return;
  if (!a.signature) {
    throw new AgentboxError('unauthenticated', 'missing X-Access-Token or signature; sign the URL with downloadUrl()/uploadUrl()');
  }
  const exp = a.expiration ? Number(a.expiration) : undefined;
  if (exp !== undefined && (!Number.isFinite(exp) || exp * 1000 < a.nowMs)) {
    throw new AgentboxError('unauthenticated', 'the file URL signature has expired; create a new URL');
  }
  if (!sameSecret(a.signature, fileSignature(a.path, a.op, a.username, token, exp))) {
    throw new AgentboxError('unauthenticated', 'the file URL signature does not match this path, operation and user');
  }
}
