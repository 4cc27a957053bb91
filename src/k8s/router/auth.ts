// Router authorisation modes:
// - allow-all: no check (upstream default; rely on NetworkPolicy).
// - token: `Authorization: Bearer <token>` must equal the configured shared token
//   (upstream Python router's ROUTER_AUTH_TOKEN).
// The credential may come in ROUTER_CREDENTIAL_HEADER instead of Authorization: a caller that
// forwards its own client's Authorization to the sandbox (the E2B SDKs choose the guest's user
// with Basic auth) sends the router's credential there, and the router passes Authorization on.
// - scoped-token: HMAC-SHA256 token `v1.<base64url payload>.<base64url sig>` whose payload
//   `{"ns","name","exp"}` binds it to one sandbox until `exp` (unix seconds). Pod-IP and UID
//   hints are refused in this mode, so a token for one sandbox cannot reach another.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RouterError } from './errors.ts';
import type { Target } from './target.ts';

export type AuthMode = { mode: 'allow-all' } | { mode: 'token'; token: string } | { mode: 'scoped-token'; key: Buffer };

/** The router's own credential header, taken before Authorization and never forwarded. */
export const ROUTER_CREDENTIAL_HEADER = 'x-sandbox-router-authorization';

/**
 * The header holding what the router takes as its credential: its own header when present, else
 * Authorization when it is a bearer token. The proxy never forwards it (proxy.ts); any other
 * Authorization (Basic) is the sandbox's and passes.
 */
export function credentialHeader(h: IncomingHttpHeaders): typeof ROUTER_CREDENTIAL_HEADER | 'authorization' | undefined {
  if (h[ROUTER_CREDENTIAL_HEADER] !== undefined) return ROUTER_CREDENTIAL_HEADER;
  return /^Bearer\s/i.test(h.authorization ?? '') ? 'authorization' : undefined;
}

const bearer = (h: IncomingHttpHeaders) => {
  const name = credentialHeader(h);
  const v = name && h[name];
  return /^Bearer\s+(.+)$/i.exec((Array.isArray(v) ? v[0] : v) ?? '')?.[1]?.trim();
};
const eq = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export function mintScopedToken(key: Buffer, namespace: string, name: string, expUnix: number): string {
  const payload = Buffer.from(JSON.stringify({ ns: namespace, name, exp: expUnix })).toString('base64url');
  const sig = createHmac('sha256', key).update(`v1.${payload}`).digest('base64url');
  return `v1.${payload}.${sig}`;
}

export function authorize(auth: AuthMode, headers: IncomingHttpHeaders, t: Target, nowUnix: number): void {
  if (auth.mode === 'allow-all') return;
  const tok = bearer(headers);
  if (!tok) throw new RouterError(401, 'missing bearer token');
  if (auth.mode === 'token') {
    if (!eq(Buffer.from(tok), Buffer.from(auth.token))) throw new RouterError(403, 'invalid token');
    return;
  }
  const [v, payload, sig] = tok.split('.');
  if (v !== 'v1' || !payload || !sig) throw new RouterError(401, 'malformed scoped token');
  const want = createHmac('sha256', auth.key).update(`v1.${payload}`).digest();
  if (!eq(Buffer.from(sig, 'base64url'), want)) throw new RouterError(403, 'invalid token signature');
  let claims: { ns?: string; name?: string; exp?: number };
  try { claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')); } catch { throw new RouterError(401, 'malformed scoped token'); }
  if (typeof claims.exp !== 'number' || claims.exp < nowUnix) throw new RouterError(401, 'token expired');
  if (claims.ns !== t.namespace || claims.name !== t.id) throw new RouterError(403, 'token is not valid for this sandbox');
  if (t.podIp || t.uid) throw new RouterError(400, 'X-Sandbox-Pod-IP and X-Sandbox-UID are not accepted with scoped tokens');
}
