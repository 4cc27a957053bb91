/**
 * What the server adds to each engine sandbox (tenant, metadata, timeout, pool membership), kept
 * in SQLite. Every method is one statement or one transaction, so a SIGKILL between two calls
 * leaves a consistent row that recovery (recovery.ts) can finish or undo.
 */
import { AgentboxError } from '../api/errors.ts';
import type { RuntimeName } from '../api/native.ts';
import type { Db } from './db.ts';

export type RecordState = 'creating' | 'running' | 'paused' | 'failed';
export type OnTimeoutAction = 'kill' | 'pause' | 'pause_filesystem';

export interface SandboxRecord {
  id: string;
  tenantId: string;
  template: string;
  runtime: RuntimeName;
  state: RecordState;
  /** Waiting unclaimed in its tenant's warm pool. */
  pooled: boolean;
  fromPool: boolean;
  metadata: Record<string, string>;
  claimEnv: Record<string, string>;
  timeoutS: number;
  onTimeout: OnTimeoutAction;
  autoResume: boolean;
  /** Unix ms; null while paused, creating or pooled. */
  expiresAt: number | null;
  cpu: number;
  memoryMiB: number;
  /** Writable disk in MiB, from the tenant's policy at creation; absent on rows made before it was recorded. */
  diskMiB?: number;
  createdAt: number;
  error?: string;
}

/** What a tenant's claimed sandboxes hold now; `creating` counts as running (its resources are being taken). */
export interface SandboxUsage {
  runningSandboxes: number;
  pausedSandboxes: number;
  totalCpu: number;
  totalMemoryMiB: number;
}

interface Row {
  id: string; tenant_id: string; template: string; runtime: string; state: string; pooled: number; from_pool: number;
  metadata: string; claim_env: string; timeout_s: number; on_timeout: string; auto_resume: number; expires_at: number | null;
  cpu: number; memory_mib: number; disk_mib: number | null; created_at: number; error: string | null;
}

function fromRow(r: Row): SandboxRecord {
  const rec: SandboxRecord = {
    id: r.id, tenantId: r.tenant_id, template: r.template, runtime: r.runtime as SandboxRecord['runtime'],
    state: r.state as RecordState, pooled: r.pooled === 1, fromPool: r.from_pool === 1,
    metadata: JSON.parse(r.metadata) as Record<string, string>, claimEnv: JSON.parse(r.claim_env) as Record<string, string>,
    timeoutS: r.timeout_s, onTimeout: r.on_timeout as OnTimeoutAction, autoResume: r.auto_resume === 1,
    expiresAt: r.expires_at, cpu: r.cpu, memoryMiB: r.memory_mib, createdAt: r.created_at,
  };
  if (r.disk_mib !== null) rec.diskMiB = r.disk_mib;
  if (r.error !== null) rec.error = r.error;
  return rec;
}

export interface ListFilter {
  states?: RecordState[];
  metadata?: Record<string, string>;
  template?: string;
  /** Only sandboxes created at or after this time (epoch ms). */
  startedAfter?: number;
  limit: number;
  /** Opaque cursor from a previous page. */
  after?: string;
  /** By creation time; newest first (`desc`) unless asked otherwise. */
  order?: 'asc' | 'desc';
}

export interface ClaimPatch {
  metadata: Record<string, string>;
  claimEnv: Record<string, string>;
  timeoutS: number;
  onTimeout: OnTimeoutAction;
  autoResume: boolean;
  expiresAt: number;
  /** Becomes the sandbox's createdAt: for its owner it was created by this claim. */
  claimedAt: number;
}

const COLUMNS: Record<string, string> = {
  state: 'state', pooled: 'pooled', fromPool: 'from_pool', metadata: 'metadata', claimEnv: 'claim_env', timeoutS: 'timeout_s',
  onTimeout: 'on_timeout', autoResume: 'auto_resume', expiresAt: 'expires_at', error: 'error',
};
type Patchable = Partial<Pick<SandboxRecord, 'state' | 'pooled' | 'fromPool' | 'metadata' | 'claimEnv' | 'timeoutS' | 'onTimeout' | 'autoResume' | 'expiresAt' | 'error'>>;

const toDb = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v !== null && typeof v === 'object' ? JSON.stringify(v) : v);

export class SandboxStore {
  private readonly claimStmt;
  constructor(private readonly db: Db) {
    // One statement: SQLite runs it atomically, so two concurrent claims can never pick the
    // same row (issue 3: "claims never hand the same sandbox twice").
    this.claimStmt = db.prepare(`UPDATE sandboxes SET pooled = 0, from_pool = 1, metadata = @metadata, claim_env = @claimEnv,
        timeout_s = @timeoutS, on_timeout = @onTimeout, auto_resume = @autoResume, expires_at = @expiresAt, created_at = @claimedAt
      WHERE id = (SELECT id FROM sandboxes WHERE tenant_id = @tenantId AND template = @template AND pooled = 1
                  AND state = 'running' AND (@runtime IS NULL OR runtime = @runtime) ORDER BY created_at LIMIT 1)
      RETURNING *`);
  }

  insert(rec: SandboxRecord): void {
    try {
      this.db.prepare(`INSERT INTO sandboxes (id, tenant_id, template, runtime, state, pooled, from_pool, metadata, claim_env, timeout_s,
          on_timeout, auto_resume, expires_at, cpu, memory_mib, disk_mib, created_at, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        rec.id, rec.tenantId, rec.template, rec.runtime, rec.state, rec.pooled ? 1 : 0, rec.fromPool ? 1 : 0,
        JSON.stringify(rec.metadata), JSON.stringify(rec.claimEnv), rec.timeoutS, rec.onTimeout, rec.autoResume ? 1 : 0,
        rec.expiresAt, rec.cpu, rec.memoryMiB, rec.diskMiB ?? null, rec.createdAt, rec.error ?? null);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AgentboxError('already_exists', `sandbox '${rec.id}' already exists`);
      throw err;
    }
  }

  /**
   * Runs `fn` in one transaction: a quota check and the write it admits see the same rows, and a
   * check that throws rolls the write back.
   */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** What the tenant's claimed sandboxes hold now (warm pool members are limited by their pools). */
  usage(tenantId: string): SandboxUsage {
    const row = this.db.prepare(`SELECT
        COALESCE(SUM(state IN ('creating', 'running')), 0) AS running,
        COALESCE(SUM(state = 'paused'), 0) AS paused,
        COALESCE(SUM(CASE WHEN state IN ('creating', 'running') THEN cpu END), 0) AS cpu,
        COALESCE(SUM(CASE WHEN state IN ('creating', 'running') THEN memory_mib END), 0) AS memory
      FROM sandboxes WHERE tenant_id = ? AND pooled = 0`).get(tenantId) as { running: number; paused: number; cpu: number; memory: number };
    return { runningSandboxes: row.running, pausedSandboxes: row.paused, totalCpu: row.cpu, totalMemoryMiB: row.memory };
  }

  get(id: string): SandboxRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sandboxes WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  all(): SandboxRecord[] {
    return (this.db.prepare('SELECT * FROM sandboxes').all() as Row[]).map(fromRow);
  }

  update(id: string, patch: Patchable): SandboxRecord | undefined {
    const keys = Object.keys(patch) as (keyof Patchable)[];
    if (keys.length === 0) return this.get(id);
    const sets = keys.map((k) => `${COLUMNS[k]} = ?`).join(', ');
    const row = this.db.prepare(`UPDATE sandboxes SET ${sets} WHERE id = ? RETURNING *`).get(...keys.map((k) => toDb(patch[k] ?? null)), id) as Row | undefined;
    return row && fromRow(row);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM sandboxes WHERE id = ?').run(id);
  }

  /** Claimed (not pooled) sandboxes of a tenant, newest first by default, with an opaque cursor. */
  list(tenantId: string, f: ListFilter): { records: SandboxRecord[]; next?: string } {
    const where = ['tenant_id = ?', 'pooled = 0'];
    const args: unknown[] = [tenantId];
    if (f.states?.length) { where.push(`state IN (${f.states.map(() => '?').join(',')})`); args.push(...f.states); }
    if (f.template) { where.push('template = ?'); args.push(f.template); }
    if (f.startedAfter !== undefined) { where.push('created_at >= ?'); args.push(f.startedAfter); }
    for (const [k, v] of Object.entries(f.metadata ?? {})) {
      where.push('EXISTS (SELECT 1 FROM json_each(sandboxes.metadata) WHERE key = ? AND value = ?)');
      args.push(k, v);
    }
    if (f.after) {
      const cursor = decodeCursor(f.after);
      const op = f.order === 'asc' ? '>' : '<';
      where.push(`(created_at ${op} ? OR (created_at = ? AND id ${op} ?))`);
      args.push(cursor.createdAt, cursor.createdAt, cursor.id);
    }
    const dir = f.order === 'asc' ? 'ASC' : 'DESC';
    const rows = this.db.prepare(`SELECT * FROM sandboxes WHERE ${where.join(' AND ')} ORDER BY created_at ${dir}, id ${dir} LIMIT ?`)
      .all(...args, f.limit + 1) as Row[];
    const records = rows.slice(0, f.limit).map(fromRow);
    const last = records[records.length - 1];
    return rows.length > f.limit && last ? { records, next: encodeCursor(last) } : { records };
  }

  claim(tenantId: string, template: string, runtime: string | undefined, patch: ClaimPatch): SandboxRecord | undefined {
    const row = this.claimStmt.get({
      tenantId, template, runtime: runtime ?? null, metadata: JSON.stringify(patch.metadata), claimEnv: JSON.stringify(patch.claimEnv),
      timeoutS: patch.timeoutS, onTimeout: patch.onTimeout, autoResume: patch.autoResume ? 1 : 0, expiresAt: patch.expiresAt, claimedAt: patch.claimedAt,
    }) as Row | undefined;
    return row && fromRow(row);
  }

  /** Pooled sandboxes of one pool, by state. */
  poolMembers(tenantId: string, template: string): SandboxRecord[] {
    return (this.db.prepare('SELECT * FROM sandboxes WHERE tenant_id = ? AND template = ? AND pooled = 1').all(tenantId, template) as Row[]).map(fromRow);
  }

  /** Sandboxes claimed from a pool that are still alive: the pool's `allocated` (api/pool-capacity.ts). */
  allocatedFromPool(tenantId: string, template: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM sandboxes WHERE tenant_id = ? AND template = ? AND pooled = 0 AND from_pool = 1').get(tenantId, template) as { n: number }).n;
  }

  /** Running or paused, claimed sandboxes whose timer elapsed at `now`. */
  dueAt(now: number): SandboxRecord[] {
    return (this.db.prepare(`SELECT * FROM sandboxes WHERE expires_at IS NOT NULL AND expires_at <= ? AND pooled = 0 AND state = 'running'`).all(now) as Row[]).map(fromRow);
  }

  /** The earliest pending expiry, to sleep exactly until then. */
  nextExpiry(): number | undefined {
    const row = this.db.prepare(`SELECT MIN(expires_at) AS at FROM sandboxes WHERE expires_at IS NOT NULL AND pooled = 0 AND state = 'running'`).get() as { at: number | null };
    return row.at ?? undefined;
  }

  countByState(): { state: string; pooled: number; n: number }[] {
    return this.db.prepare('SELECT state, pooled, COUNT(*) AS n FROM sandboxes GROUP BY state, pooled').all() as { state: string; pooled: number; n: number }[];
  }
}

function encodeCursor(r: SandboxRecord): string {
  return Buffer.from(`${r.createdAt}:${r.id}`).toString('base64url');
}

function decodeCursor(token: string): { createdAt: number; id: string } {
  const m = /^(\d+):([a-z0-9]+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw new AgentboxError('invalid_argument', 'nextToken is not a token this server returned: pass the value of a previous page\'s nextToken');
  return { createdAt: Number(m[1]), id: m[2]! };
}
