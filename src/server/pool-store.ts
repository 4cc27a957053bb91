/** Desired warm-pool sizes per tenant and template. Members live in SandboxStore (pooled = 1). */
import type { PoolCapacity, RuntimeName } from '../api/native.ts';
import type { Db } from './db.ts';

/**
 * `runtime` is the runtime class of the warm sandboxes; absent for pools set before it was
 * recorded. `capacity` is set for pools sized by OpenSandbox's capacity; `size` is then the most
 * the pool keeps idle (api/pool-capacity.ts peakIdle), which is what quotas and metrics count.
 */
export interface PoolSpec { tenantId: string; template: string; size: number; runtime?: RuntimeName; capacity?: PoolCapacity }

interface Row {
  tenant_id: string; template: string; size: number; runtime: string | null;
  buffer_min: number | null; buffer_max: number | null; pool_min: number | null; pool_max: number | null;
}

const COLUMNS = 'tenant_id, template, size, runtime, buffer_min, buffer_max, pool_min, pool_max';

const fromRow = (r: Row): PoolSpec => ({
  tenantId: r.tenant_id, template: r.template, size: r.size,
  ...(r.runtime ? { runtime: r.runtime as RuntimeName } : {}),
  ...(r.buffer_min !== null && r.buffer_max !== null && r.pool_min !== null && r.pool_max !== null
    ? { capacity: { bufferMin: r.buffer_min, bufferMax: r.buffer_max, poolMin: r.pool_min, poolMax: r.pool_max } } : {}),
});

export class PoolStore {
  constructor(private readonly db: Db) {}

  set(tenantId: string, template: string, size: number, runtime: RuntimeName, capacity?: PoolCapacity): void {
    this.db.prepare(`INSERT INTO pools (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, template) DO UPDATE SET
        size = excluded.size, runtime = excluded.runtime, buffer_min = excluded.buffer_min, buffer_max = excluded.buffer_max,
        pool_min = excluded.pool_min, pool_max = excluded.pool_max`)
      .run(tenantId, template, size, runtime, capacity?.bufferMin ?? null, capacity?.bufferMax ?? null, capacity?.poolMin ?? null, capacity?.poolMax ?? null);
  }

  get(tenantId: string, template: string): PoolSpec | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM pools WHERE tenant_id = ? AND template = ?`).get(tenantId, template) as Row | undefined;
    return row && fromRow(row);
  }

  delete(tenantId: string, template: string): boolean {
    return this.db.prepare('DELETE FROM pools WHERE tenant_id = ? AND template = ?').run(tenantId, template).changes > 0;
  }

  list(tenantId?: string): PoolSpec[] {
    const rows = (tenantId === undefined
      ? this.db.prepare(`SELECT ${COLUMNS} FROM pools ORDER BY template`).all()
      : this.db.prepare(`SELECT ${COLUMNS} FROM pools WHERE tenant_id = ? ORDER BY template`).all(tenantId)) as Row[];
    return rows.map(fromRow);
  }
}
