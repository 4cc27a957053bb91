/**
 * The lifecycle event log (issue 15): one row per sandbox transition, written by the service in
 * the same SQLite transaction as the transition itself, together with one outbox row per webhook
 * that wants it (outbox.ts), so an event that happened is listed and delivered even when the
 * server dies right after. Events older than EVENT_RETENTION_MS are pruned as new ones come.
 * Live readers (SSE) subscribe and are told of each event once its transaction committed.
 */
import { randomUUID } from 'node:crypto';
import { EVENT_RETENTION_MS, type EventData, type EventType, type SandboxEventView } from '../../api/events.ts';
import type { Db } from '../db.ts';
import type { SandboxRecord } from '../sandbox-store.ts';
import { eventFromRow, type EventRow } from './event-row.ts';
import type { Outbox } from './outbox.ts';

/** Which events a caller reads (backend.ts re-exports it for the façades). */
export interface EventQuery {
  sandboxId?: string;
  types?: readonly EventType[];
  /** Unix ms: events at or after it. */
  since?: number;
  /** Events after this seq (SSE's Last-Event-ID). */
  after?: number;
  limit: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

/** A query of one tenant's events; without `tenantId`, every tenant's (an admin's view). */
export type EventFilter = EventQuery & { tenantId?: string };

export type EventListener = (e: SandboxEventView) => void;

export class EventLog {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly db: Db, private readonly outbox: Outbox, private readonly now: () => number, private readonly retentionMs = EVENT_RETENTION_MS) {}

  /**
   * Records a transition of `rec`. Call it inside the transaction that makes the transition (a
   * rollback takes the event and its deliveries with it); listeners hear of it after the commit.
   */
  record(type: EventType, rec: SandboxRecord, data: EventData = {}): SandboxEventView {
    const at = this.now();
    const row = this.db.prepare(`INSERT INTO events (id, tenant_id, sandbox_id, type, template, metadata, data, at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`).get(randomUUID(), rec.tenantId, rec.id, type, rec.template, JSON.stringify(rec.metadata), JSON.stringify(data), at) as EventRow;
    this.outbox.enqueue(row.tenant_id, type, row.seq, at);
    this.db.prepare('DELETE FROM events WHERE at < ?').run(at - this.retentionMs);
    const event = eventFromRow(row);
    // A transaction completes synchronously, so by the time this runs it committed or rolled back.
    // By id, not seq: a rolled-back seq is handed out again to the next event.
    queueMicrotask(() => { if (this.exists(event.id)) for (const l of this.listeners) l(event); });
    return event;
  }

  /**
   * Undoes `record` for a transition that was rolled back after its transaction (a destroy that
   * failed puts its sandbox back); its pending deliveries go with it. A live reader that already
   * saw it is not told.
   */
  forget(seq: number): void {
    this.db.prepare('DELETE FROM events WHERE seq = ?').run(seq);
  }

  /** What the run that ends now (kill, pause) used: for `execution` in the event's data. */
  static execution(rec: SandboxRecord, now: number): NonNullable<EventData['execution']> {
    return { startedAt: new Date(rec.createdAt).toISOString(), cpu: rec.cpu, memoryMiB: rec.memoryMiB, runtimeMs: Math.max(0, now - rec.createdAt) };
  }

  list(f: EventFilter): SandboxEventView[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.tenantId !== undefined) { where.push('tenant_id = ?'); args.push(f.tenantId); }
    if (f.sandboxId !== undefined) { where.push('sandbox_id = ?'); args.push(f.sandboxId); }
    if (f.types?.length) { where.push(`type IN (${f.types.map(() => '?').join(',')})`); args.push(...f.types); }
    if (f.since !== undefined) { where.push('at >= ?'); args.push(f.since); }
    if (f.after !== undefined) { where.push('seq > ?'); args.push(f.after); }
    where.push('at >= ?');
    args.push(this.now() - this.retentionMs);
    const dir = f.order === 'desc' ? 'DESC' : 'ASC';
    const rows = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq ${dir} LIMIT ? OFFSET ?`)
      .all(...args, f.limit, f.offset ?? 0) as EventRow[];
    return rows.map(eventFromRow);
  }

  /** Calls `l` with every event committed from now on, until the returned function is called. */
  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }

  private exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM events WHERE id = ?').get(id) !== undefined;
  }
}
