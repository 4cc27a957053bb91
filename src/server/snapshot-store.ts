/**
 * Which tenant owns which engine snapshot, under which name, and what a sandbox started from it
 * gets (runtime, resources). One statement per method, like sandbox-store.ts.
 */
import { AgentboxError } from '../api/errors.ts';
import { SNAPSHOT_ID_PATTERN } from '../api/ids.ts';
import type { RuntimeName } from '../api/native.ts';
import type { Db } from './db.ts';

/** A page cursor: `<created_at>:<snapshot id>`, base64url. */
const CURSOR_RE = new RegExp(`^(\\d+):(${SNAPSHOT_ID_PATTERN})$`);

export interface SnapshotRecord {
  /** The engine's snapshot id (`snap-<20 chars>`). */
  id: string;
  tenantId: string;
  name?: string;
  sandboxId: string;
  template: string;
  runtime: RuntimeName;
  cpu: number;
  memoryMiB: number;
  createdAt: number;
}

interface Row { id: string; tenant_id: string; name: string | null; sandbox_id: string; template: string; runtime: string; cpu: number; memory_mib: number; created_at: number }

function fromRow(r: Row): SnapshotRecord {
  const rec: SnapshotRecord = {
    id: r.id, tenantId: r.tenant_id, sandboxId: r.sandbox_id, template: r.template, runtime: r.runtime as SnapshotRecord['runtime'],
    cpu: r.cpu, memoryMiB: r.memory_mib, createdAt: r.created_at,
  };
  if (r.name !== null) rec.name = r.name;
  return rec;
}

export interface SnapshotFilter { sandboxId?: string; name?: string; limit: number; after?: string }

export class SnapshotStore {
  constructor(private readonly db: Db) {}

  insert(s: SnapshotRecord): void {
    try {
      this.db.prepare('INSERT INTO snapshots (id, tenant_id, name, sandbox_id, template, runtime, cpu, memory_mib, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(s.id, s.tenantId, s.name ?? null, s.sandboxId, s.template, s.runtime, s.cpu, s.memoryMiB, s.createdAt);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AgentboxError('already_exists', `snapshot name '${s.name}' is taken: choose another name`);
      throw err;
    }
  }

  nameTaken(tenantId: string, name: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM snapshots WHERE tenant_id = ? AND name = ?').get(tenantId, name);
  }

  /** A tenant's snapshot by id or by name. */
  find(tenantId: string, ref: string): SnapshotRecord | undefined {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE tenant_id = ? AND (id = ? OR name = ?)').get(tenantId, ref, ref) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first, with an opaque cursor. */
  list(tenantId: string, f: SnapshotFilter): { records: SnapshotRecord[]; next?: string } {
    const where = ['tenant_id = ?'];
    const args: unknown[] = [tenantId];
    if (f.sandboxId) { where.push('sandbox_id = ?'); args.push(f.sandboxId); }
    if (f.name) { where.push('name = ?'); args.push(f.name); }
    if (f.after) {
      const m = CURSOR_RE.exec(Buffer.from(f.after, 'base64url').toString());
      if (!m) throw new AgentboxError('invalid_argument', 'nextToken is not a token this server returned: pass the value of a previous page\'s X-Next-Token');
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      args.push(Number(m[1]), Number(m[1]), m[2]);
    }
    const rows = this.db.prepare(`SELECT * FROM snapshots WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`).all(...args, f.limit + 1) as Row[];
    const records = rows.slice(0, f.limit).map(fromRow);
    const last = records[records.length - 1];
    return rows.length > f.limit && last ? { records, next: Buffer.from(`${last.createdAt}:${last.id}`).toString('base64url') } : { records };
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
  }
}
