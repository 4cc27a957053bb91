/**
 * Webhooks a tenant registered (E2B's `/events/webhooks`): where to POST which lifecycle events,
 * and the secret that signs them. Every read and write is scoped to the tenant: another tenant's
 * webhook is not_found, as if it did not exist.
 */
import { randomUUID } from 'node:crypto';
import { notFound } from '../../api/errors.ts';
import type { EventType } from '../../api/events.ts';
import type { Db } from '../db.ts';

export interface Webhook {
  id: string;
  tenantId: string;
  name: string;
  url: string;
  events: EventType[];
  secret: string;
  enabled: boolean;
  /** Unix ms. */
  createdAt: number;
}

export type NewWebhook = Pick<Webhook, 'name' | 'url' | 'events' | 'secret' | 'enabled'>;
export type WebhookPatch = Partial<NewWebhook>;

interface Row { id: string; tenant_id: string; name: string; url: string; events: string; secret: string; enabled: number; created_at: number }

const fromRow = (r: Row): Webhook => ({
  id: r.id, tenantId: r.tenant_id, name: r.name, url: r.url, events: JSON.parse(r.events) as EventType[], secret: r.secret,
  enabled: r.enabled === 1, createdAt: r.created_at,
});

/** Most webhooks one tenant may register: each event is POSTed to every one of them. */
export const MAX_WEBHOOKS_PER_TENANT = 20;

export class WebhookStore {
  constructor(private readonly db: Db, private readonly now: () => number) {}

  /** Null when the tenant already has MAX_WEBHOOKS_PER_TENANT. */
  create(tenantId: string, w: NewWebhook): Webhook | null {
    return this.db.transaction(() => {
      const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM webhooks WHERE tenant_id = ?').get(tenantId) as { n: number };
      if (n >= MAX_WEBHOOKS_PER_TENANT) return null;
      const row = this.db.prepare(`INSERT INTO webhooks (id, tenant_id, name, url, events, secret, enabled, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`).get(randomUUID(), tenantId, w.name, w.url, JSON.stringify(w.events), w.secret, w.enabled ? 1 : 0, this.now()) as Row;
      return fromRow(row);
    })();
  }

  list(tenantId: string): Webhook[] {
    return (this.db.prepare('SELECT * FROM webhooks WHERE tenant_id = ? ORDER BY created_at, id').all(tenantId) as Row[]).map(fromRow);
  }

  get(tenantId: string, id: string): Webhook {
    const row = this.db.prepare('SELECT * FROM webhooks WHERE id = ? AND tenant_id = ?').get(id, tenantId) as Row | undefined;
    if (!row) throw notFound('webhook', id);
    return fromRow(row);
  }

  update(tenantId: string, id: string, patch: WebhookPatch): Webhook {
    const w = { ...this.get(tenantId, id), ...patch };
    this.db.prepare('UPDATE webhooks SET name = ?, url = ?, events = ?, secret = ?, enabled = ? WHERE id = ? AND tenant_id = ?')
      .run(w.name, w.url, JSON.stringify(w.events), w.secret, w.enabled ? 1 : 0, id, tenantId);
    return this.get(tenantId, id);
  }

  /** Its pending deliveries go with it (ON DELETE CASCADE). */
  delete(tenantId: string, id: string): void {
    if (this.db.prepare('DELETE FROM webhooks WHERE id = ? AND tenant_id = ?').run(id, tenantId).changes === 0) throw notFound('webhook', id);
  }
}
