/** Desired warm-pool sizes per tenant and template. Members live in SandboxStore (pooled = 1). */
import type { RuntimeName } from '../api/native.ts';
import type { Db } from './db.ts';

/** `runtime` is the runtime class of the warm sandboxes; absent for pools set before it was recorded. */
export interface PoolSpec { tenantId: string; template: string; size: number; runtime?: RuntimeName }

interface Row { tenant_id: string; template: string; size: number; runtime: string | null }

const fromRow = (r: Row): PoolSpec => ({ tenantId: r.tenant_id, template: r.template, size: r.size, ...(r.runtime ? { runtime: r.runtime as RuntimeName } : {}) });

export class PoolStore {
  constructor(private readonly db: Db) {}

  set(tenantId: string, template: string, size: number, runtime: RuntimeName): void {
    this.db.prepare('INSERT INTO pools (tenant_id, template, size, runtime) VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, template) DO UPDATE SET size = excluded.size, runtime = excluded.runtime')
      .run(tenantId, template, size, runtime);
  }

  get(tenantId: string, template: string): PoolSpec | undefined {
    const row = this.db.prepare('SELECT tenant_id, template, size, runtime FROM pools WHERE tenant_id = ? AND template = ?').get(tenantId, template) as Row | undefined;
    return row && fromRow(row);
  }

  delete(tenantId: string, template: string): boolean {
    return this.db.prepare('DELETE FROM pools WHERE tenant_id = ? AND template = ?').run(tenantId, template).changes > 0;
  }

  list(tenantId?: string): PoolSpec[] {
    const rows = (tenantId === undefined
      ? this.db.prepare('SELECT tenant_id, template, size, runtime FROM pools ORDER BY template').all()
      : this.db.prepare('SELECT tenant_id, template, size, runtime FROM pools WHERE tenant_id = ? ORDER BY template').all(tenantId)) as Row[];
    return rows.map(fromRow);
  }
}
