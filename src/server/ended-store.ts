/**
 * A bounded record of sandboxes that ended (id, tenant, why, when), so a call on an expired or
 * killed id answers sandbox_ended with the time rather than "does not exist" (issue 16). Only
 * the owner's calls find a row: another tenant's ended ids stay not_found, as live ones do.
 */
import type { EndReason } from '../api/errors.ts';
import type { Db } from './db.ts';

export interface EndedSandbox {
  id: string;
  tenantId: string;
  reason: EndReason;
  /** Unix ms. */
  endedAt: number;
}

/** Rows kept; past it the oldest go. A few hundred KiB of SQLite at most. */
export const ENDED_SANDBOXES_KEPT = 10_000;

export class EndedStore {
  constructor(private readonly db: Db, private readonly kept = ENDED_SANDBOXES_KEPT) {}

  record(e: EndedSandbox): void {
    const { seq } = this.db.prepare('INSERT OR REPLACE INTO ended_sandboxes (id, tenant_id, reason, ended_at) VALUES (?, ?, ?, ?) RETURNING seq')
      .get(e.id, e.tenantId, e.reason, e.endedAt) as { seq: number };
    this.db.prepare('DELETE FROM ended_sandboxes WHERE seq <= ?').run(seq - this.kept);
  }

  /** Undoes `record` (a destroy that failed puts its sandbox back). */
  forget(id: string): void {
    this.db.prepare('DELETE FROM ended_sandboxes WHERE id = ?').run(id);
  }

  /** The tenant's ended sandbox `id`, if it is still on record. */
  find(tenantId: string, id: string): EndedSandbox | undefined {
    const row = this.db.prepare('SELECT id, tenant_id, reason, ended_at FROM ended_sandboxes WHERE id = ? AND tenant_id = ?').get(id, tenantId) as
      { id: string; tenant_id: string; reason: EndReason; ended_at: number } | undefined;
    return row && { id: row.id, tenantId: row.tenant_id, reason: row.reason, endedAt: row.ended_at };
  }
}
