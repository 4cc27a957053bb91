/**
 * Tenants and API keys. A key's secret is shown once and stored only as its SHA-256, so a leaked
 * database does not leak working keys. Keys look like `e2b_<40 hex>` because the E2B SDKs refuse
 * any other shape before sending (E2B's published spec, github.com/e2b-dev/E2B `spec/`), and one key serves every façade.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AgentboxError, notFound } from '../api/errors.ts';
import type { ApiKeyView, CreatedKeyView, TenantView } from '../api/native.ts';
import type { Db } from './db.ts';

export interface Principal {
  tenantId: string;
  tenantName: string;
  keyId: string;
  admin: boolean;
}

interface KeyRow { id: string; tenant_id: string; tenant_name: string; hash: string; prefix: string; name: string; admin: number; created_at: number; revoked_at: number | null }

export const DEFAULT_TENANT = 'default';

/** What is stored of a key: its SHA-256 (hex). Shared with the Kubernetes backend's key Secrets. */
export const hashKey = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** A new key: its secret (shown once), id and recognisable prefix. */
export function mintApiKey(): { secret: string; id: string; prefix: string } {
  const secret = `e2b_${randomBytes(20).toString('hex')}`;
  return { secret, id: `k_${randomBytes(8).toString('hex')}`, prefix: secret.slice(0, 10) };
}

/** A new tenant's id (the default tenant keeps its name as id). */
export const newTenantId = (name: string) => (name === DEFAULT_TENANT ? DEFAULT_TENANT : `t_${randomBytes(8).toString('hex')}`);

/** The error for a key that is unknown or revoked. */
export const unknownKey = () => new AgentboxError('unauthenticated', 'unknown or revoked API key: pass a valid key as "Authorization: Bearer <key>"');
const iso = (ms: number) => new Date(ms).toISOString();

export class AuthStore {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  ensureTenant(name: string): TenantView {
    const existing = this.db.prepare('SELECT id, name, created_at FROM tenants WHERE name = ?').get(name) as { id: string; name: string; created_at: number } | undefined;
    if (existing) return { id: existing.id, name: existing.name, createdAt: iso(existing.created_at) };
    return this.createTenant(name);
  }

  createTenant(name: string): TenantView {
    const id = newTenantId(name);
    const at = this.now();
    try {
      this.db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(id, name, at);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AgentboxError('already_exists', `tenant '${name}' already exists`, { details: { tenant: name } });
      throw err;
    }
    return { id, name, createdAt: iso(at) };
  }

  /** A tenant by id or name. */
  findTenant(ref: string): TenantView | undefined {
    const row = this.db.prepare('SELECT id, name, created_at FROM tenants WHERE id = ? OR name = ?').get(ref, ref) as { id: string; name: string; created_at: number } | undefined;
    return row && { id: row.id, name: row.name, createdAt: iso(row.created_at) };
  }

  listTenants(): TenantView[] {
    const rows = this.db.prepare('SELECT id, name, created_at FROM tenants ORDER BY created_at, name').all() as { id: string; name: string; created_at: number }[];
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: iso(r.created_at) }));
  }

  createKey(opts: { tenant: string; name?: string; admin?: boolean }): CreatedKeyView {
    const tenant = this.ensureTenant(opts.tenant);
    const { secret, id, prefix } = mintApiKey();
    const at = this.now();
    const name = opts.name ?? '';
    this.db.prepare('INSERT INTO api_keys (id, tenant_id, hash, prefix, name, admin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, tenant.id, hashKey(secret), prefix, name, opts.admin ? 1 : 0, at);
    return { id, tenant: tenant.name, name, admin: !!opts.admin, prefix, createdAt: iso(at), key: secret };
  }

  listKeys(): ApiKeyView[] {
    const rows = this.db.prepare(`SELECT k.*, t.name AS tenant_name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id ORDER BY k.created_at`).all() as KeyRow[];
    return rows.map(toKeyView);
  }

  revokeKey(id: string): void {
    const res = this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.now(), id);
    if (res.changes === 0) throw notFound('key', id);
  }

  /** The principal a bearer secret acts as; unauthenticated for unknown or revoked keys. */
  authenticate(secret: string): Principal {
    const row = this.db.prepare(`SELECT k.*, t.name AS tenant_name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?`).get(hashKey(secret)) as KeyRow | undefined;
    if (!row || row.revoked_at !== null) throw unknownKey();
    return { tenantId: row.tenant_id, tenantName: row.tenant_name, keyId: row.id, admin: row.admin === 1 };
  }
}

function toKeyView(r: KeyRow): ApiKeyView {
  const v: ApiKeyView = { id: r.id, tenant: r.tenant_name, name: r.name, admin: r.admin === 1, prefix: r.prefix, createdAt: iso(r.created_at) };
  if (r.revoked_at !== null) v.revokedAt = iso(r.revoked_at);
  return v;
}
