/**
 * Warm pools: keep `size` started, unclaimed sandboxes per (tenant, template). Claims happen in
 * SandboxStore.claim (one atomic UPDATE); this module only refills and trims, in the background.
 */
import { asAgentboxError, notFound } from '../api/errors.ts';
import type { PoolView } from '../api/native.ts';
import type { Engine } from '../engine/types.ts';
import type { PoolStore } from './pool-store.ts';
import { newSandboxId, runRecord } from './run-record.ts';
import type { SandboxStore } from './sandbox-store.ts';
import type { TemplateAccess } from './templates.ts';

export interface PoolDeps {
  engine: Engine;
  store: SandboxStore;
  pools: PoolStore;
  /** Resolves a pool's template name for its tenant (own first, then public). */
  templates: Pick<TemplateAccess, 'entryFor'>;
  now: () => number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  defaultRuntime: 'gvisor' | 'runc';
  /** Sandboxes started at once per pool; 2 cores here, so small. */
  concurrency?: number;
  /** Pause after a failed start before the pool tries again, so a broken template does not spin. */
  retryMs?: number;
}

export class PoolManager {
  /** Pools whose reconcile loop runs now; `dirty` asks it to run once more after. */
  private readonly active = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly d: PoolDeps) {}

  has(tenantId: string, template: string): boolean {
    return (this.d.pools.get(tenantId, template)?.size ?? 0) > 0;
  }

  set(tenantId: string, template: string, size: number): PoolView {
    this.d.pools.set(tenantId, template, size);
    this.refill(tenantId, template);
    return this.view(tenantId, template, size);
  }

  get(tenantId: string, template: string): PoolView | undefined {
    const spec = this.d.pools.get(tenantId, template);
    return spec && this.view(tenantId, template, spec.size);
  }

  list(tenantId: string): PoolView[] {
    return this.d.pools.list(tenantId).map((s) => this.view(tenantId, s.template, s.size));
  }

  /** Deletes the pool; its unclaimed sandboxes are destroyed by the reconcile that follows. */
  delete(tenantId: string, template: string): boolean {
    const existed = this.d.pools.delete(tenantId, template);
    this.refill(tenantId, template);
    return existed;
  }

  private view(tenantId: string, template: string, size: number): PoolView {
    const members = this.d.store.poolMembers(tenantId, template);
    return {
      template, size,
      ready: members.filter((m) => m.state === 'running').length,
      starting: members.filter((m) => m.state === 'creating').length,
    };
  }

  /** Schedules a reconcile of one pool; cheap to call after every claim. */
  refill(tenantId: string, template: string): void {
    if (this.closed) return;
    const key = `${tenantId}\0${template}`;
    const running = this.active.get(key);
    if (running) { running.dirty = true; return; }
    const state = { dirty: false, done: Promise.resolve() };
    state.done = (async () => {
      do {
        state.dirty = false;
        await this.reconcile(tenantId, template);
      } while (state.dirty && !this.closed);
    })().catch((err: unknown) => this.d.log('pool reconcile failed', { tenantId, template, error: asAgentboxError(err).message }))
      .finally(() => this.active.delete(key));
    this.active.set(key, state);
  }

  reconcileAll(): void {
    for (const p of this.d.pools.list()) this.refill(p.tenantId, p.template);
  }

  private async reconcile(tenantId: string, template: string): Promise<void> {
    const size = this.d.pools.get(tenantId, template)?.size ?? 0;
    const members = this.d.store.poolMembers(tenantId, template);
    const live = members.filter((m) => m.state === 'creating' || m.state === 'running');
    for (const m of members.filter((x) => x.state === 'failed')) await this.remove(m.id);
    if (live.length > size) {
      for (const m of live.filter((x) => x.state === 'running').slice(0, live.length - size)) await this.remove(m.id);
      return;
    }
    let missing = size - live.length;
    const batch = this.d.concurrency ?? 2;
    while (missing > 0 && !this.closed) {
      const n = Math.min(batch, missing);
      const results = await Promise.allSettled(Array.from({ length: n }, () => this.startOne(tenantId, template)));
      missing -= n;
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) {
        this.d.log('pool fill failed; retrying later', { tenantId, template, error: asAgentboxError((failure as PromiseRejectedResult).reason).message });
        const t = setTimeout(() => { this.retryTimers.delete(t); this.refill(tenantId, template); }, this.d.retryMs ?? 5000);
        this.retryTimers.add(t);
        return;
      }
    }
  }

  private async startOne(tenantId: string, template: string): Promise<void> {
    const tpl = this.d.templates.entryFor(tenantId, template);
    if (!tpl) throw notFound('template', template);
    const rec = {
      id: newSandboxId(), tenantId, template, runtime: this.d.defaultRuntime, state: 'creating' as const, pooled: true, fromPool: false,
      metadata: {}, claimEnv: {}, timeoutS: 0, onTimeout: 'kill' as const, autoResume: false, expiresAt: null,
      cpu: tpl.cpu, memoryMiB: tpl.memoryMiB, createdAt: this.d.now(),
    };
    this.d.store.insert(rec);
    try {
      await runRecord(this.d.engine, rec, tpl.name, {});
    } catch (err) {
      this.d.store.delete(rec.id);
      throw err;
    }
    this.d.store.update(rec.id, { state: 'running' });
  }

  private async remove(id: string): Promise<void> {
    try {
      await this.d.engine.destroy(id);
    } catch (err) {
      if (asAgentboxError(err).code !== 'not_found') throw err;
    }
    this.d.store.delete(id);
  }

  /** Stops refilling and waits for starts in flight, so shutdown leaves no half-made sandbox. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    await Promise.all([...this.active.values()].map((s) => s.done));
  }
}
