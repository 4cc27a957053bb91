/** `Authorization: Bearer <key>` → the tenant principal it acts for. */
import type { IncomingMessage } from 'node:http';
import { AgentboxError } from '../api/errors.ts';
import type { Principal, SandboxBackend } from '../server/backend.ts';

export function authenticate(req: IncomingMessage, auth: Pick<SandboxBackend, 'authenticate'>): Principal {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  // The E2B SDKs send X-API-Key; accepting it here costs nothing and lets one key work everywhere.
  const key = m?.[1] ?? (typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined);
  if (!key) throw new AgentboxError('unauthenticated', 'missing API key: send "Authorization: Bearer <key>" (agentbox up prints the admin key path)');
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
