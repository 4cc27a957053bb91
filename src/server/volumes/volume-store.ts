/** Which tenant owns which volume, under which name, and its content token. One statement per method, like sandbox-store.ts. */
import { AgentboxError } from '../../api/errors.ts';
import type { Db } from '../db.ts';

export interface VolumeRecord {
  /** A UUID, as E2B's volume ids; also the engine's name for the volume's disk. */
  id: string;
  tenantId: string;
  name: string;
  /** Bearer token of the volume's content API. */
  token: string;
  sizeMiB: number;
  createdAt: number;
}

interface Row { id: string; tenant_id: string; name: string; token: string; size_mib: number; created_at: number }

const fromRow = (r: Row): VolumeRecord => ({ id: r.id, tenantId: r.tenant_id, name: r.name, token: r.token, sizeMiB: r.size_mib, createdAt: r.created_at });

export class VolumeStore {
  constructor(private readonly db: Db) {}

  insert(v: VolumeRecord): void {
    try {
      this.db.prepare('INSERT INTO volumes (id, tenant_id, name, token, size_mib, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(v.id, v.tenantId, v.name, v.token, v.sizeMiB, v.createdAt);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new AgentboxError('already_exists', `Volume with name '${v.name}' already exists`);
      throw err;
    }
  }

  /** A tenant's volume by id or by name. */
  find(tenantId: string, ref: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE tenant_id = ? AND (id = ? OR name = ?)').get(tenantId, ref, ref) as Row | undefined;
    return row && fromRow(row);
  }

  byId(id: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  byToken(token: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE token = ?').get(token) as Row | undefined;
    return row && fromRow(row);
  }

  list(tenantId: string): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes WHERE tenant_id = ? ORDER BY created_at, id').all(tenantId) as Row[]).map(fromRow);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM volumes WHERE id = ?').run(id);
  }
}
