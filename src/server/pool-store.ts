/** Desired warm-pool sizes per tenant and template. Members live in SandboxStore (pooled = 1). */
import type { Db } from './db.ts';

export interface PoolSpec { tenantId: string; template: string; size: number }

export class PoolStore {
  constructor(private readonly db: Db) {}

  set(tenantId: string, template: string, size: number): void {
    this.db.prepare('INSERT INTO pools (tenant_id, template, size) VALUES (?, ?, ?) ON CONFLICT (tenant_id, template) DO UPDATE SET size = excluded.size')
      .run(tenantId, template, size);
  }

  get(tenantId: string, template: string): PoolSpec | undefined {
    const row = this.db.prepare('SELECT tenant_id, template, size FROM pools WHERE tenant_id = ? AND template = ?').get(tenantId, template) as { tenant_id: string; template: string; size: number } | undefined;
    return row && { tenantId: row.tenant_id, template: row.template, size: row.size };
  }

  delete(tenantId: string, template: string): boolean {
    return this.db.prepare('DELETE FROM pools WHERE tenant_id = ? AND template = ?').run(tenantId, template).changes > 0;
  }

  list(tenantId?: string): PoolSpec[] {
    const rows = (tenantId === undefined
      ? this.db.prepare('SELECT tenant_id, template, size FROM pools ORDER BY template').all()
      : this.db.prepare('SELECT tenant_id, template, size FROM pools WHERE tenant_id = ? ORDER BY template').all(tenantId)) as { tenant_id: string; template: string; size: number }[];
    return rows.map((r) => ({ tenantId: r.tenant_id, template: r.template, size: r.size }));
  }
}
