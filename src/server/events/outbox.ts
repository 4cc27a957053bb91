/**
 * The webhook outbox: one row per (event, webhook) still to deliver, written in the transaction
 * that records the event (event-log.ts), so a delivery survives a crash between the transition
 * and the POST. The deliverer (deliverer.ts) takes due rows, deletes each once delivered or
 * abandoned, and otherwise moves it to its next attempt.
 */
import type { EventType, SandboxEventView } from '../../api/events.ts';
import { eventFromRow, type EventRow } from './event-row.ts';
import type { Db } from '../db.ts';

export interface Delivery {
  id: number;
  webhookId: string;
  url: string;
  secret: string;
  /** Attempts made before this one. */
  attempts: number;
  event: SandboxEventView;
}

type DueRow = EventRow & { delivery_id: number; webhook_id: string; url: string; secret: string; attempts: number };

export class Outbox {
  constructor(private readonly db: Db) {}

  /** A delivery to each enabled webhook of the tenant that wants `type`, due now. */
  enqueue(tenantId: string, type: EventType, seq: number, at: number): void {
    this.db.prepare(`INSERT INTO webhook_deliveries (webhook_id, event_seq, next_at)
      SELECT w.id, ?, ? FROM webhooks w WHERE w.tenant_id = ? AND w.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?)`)
      .run(seq, at, tenantId, type);
  }

  /**
   * Takes up to `limit` deliveries due at `now`, oldest event first, and leases them until
   * `leaseUntil`: a delivery in flight is not taken twice, and one whose server died mid-POST is
   * due again once its lease runs out.
   */
  claim(now: number, limit: number, leaseUntil: number): Delivery[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT d.id AS delivery_id, d.webhook_id, w.url, w.secret, d.attempts, e.*
        FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.seq = d.event_seq
        WHERE d.next_at <= ? ORDER BY d.event_seq, d.id LIMIT ?`).all(now, limit) as DueRow[];
      const lease = this.db.prepare('UPDATE webhook_deliveries SET next_at = ? WHERE id = ?');
      for (const r of rows) lease.run(leaseUntil, r.delivery_id);
      return rows.map((r) => ({ id: r.delivery_id, webhookId: r.webhook_id, url: r.url, secret: r.secret, attempts: r.attempts, event: eventFromRow(r) }));
    })();
  }

  /** When the next pending delivery is due, if any. */
  nextDue(): number | undefined {
    const row = this.db.prepare('SELECT MIN(next_at) AS at FROM webhook_deliveries').get() as { at: number | null };
    return row.at ?? undefined;
  }

  /** Delivered, or given up on: the row goes. */
  finish(id: number): void {
    this.db.prepare('DELETE FROM webhook_deliveries WHERE id = ?').run(id);
  }

  retryAt(id: number, nextAt: number, error: string): void {
    this.db.prepare('UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?').run(nextAt, error.slice(0, 500), id);
  }

  /** Deliveries still pending (for tests and metrics). */
  pending(): { webhookId: string; seq: number; attempts: number; lastError: string | null }[] {
    return (this.db.prepare('SELECT webhook_id, event_seq, attempts, last_error FROM webhook_deliveries ORDER BY id').all() as
      { webhook_id: string; event_seq: number; attempts: number; last_error: string | null }[])
      .map((r) => ({ webhookId: r.webhook_id, seq: r.event_seq, attempts: r.attempts, lastError: r.last_error }));
  }
}
