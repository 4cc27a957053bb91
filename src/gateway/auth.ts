/** `Authorization: Bearer <key>` → the tenant principal it acts for. */
import type { IncomingMessage } from 'node:http';
import { AgentboxError } from '../api/errors.ts';
import type { Principal, SandboxBackend } from '../server/backend.ts';

/** Key headers of other clients that agentbox accepts too, so one key works everywhere. */
const OTHER_KEY_HEADERS = [
  'x-api-key', // the E2B SDKs
  'open-sandbox-api-key', // the OpenSandbox SDKs (docs/opensandbox.md)
] as const;

/** The API key a request presents, in any header agentbox accepts; undefined when none. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (m) return m[1];
  for (const name of OTHER_KEY_HEADERS) {
    const v = req.headers[name];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

export function authenticate(req: IncomingMessage, auth: Pick<SandboxBackend, 'authenticate'>): Principal {
  const key = presentedKey(req);
  if (!key) throw new AgentboxError('unauthenticated', 'missing API key: send "Authorization: Bearer <key>" (agentbox up prints the admin key path)', { details: { missingKey: true } });
  return auth.authenticate(key);
}

export function requireAdmin(p: Principal): void {
  if (!p.admin) throw new AgentboxError('permission_denied', 'this route needs an admin key');
}

/** Agentbox keys look like `e2b_<40 hex>` (auth-store.ts), because E2B's SDKs insist on that shape. */
const API_KEY_SHAPE = /e2b_[0-9a-f]{40}/i;

/** True when a header value holds something shaped like an agentbox API key. */
export function carriesApiKey(value: string | string[]): boolean {
  return (Array.isArray(value) ? value : [value]).some((v) => API_KEY_SHAPE.test(v));
}
