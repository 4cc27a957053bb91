/**
 * Warm pools: keep started, unclaimed sandboxes per (tenant, template) — `size` of them, or as
 * many as OpenSandbox's capacity asks for (api/pool-capacity.ts). Claims happen in SandboxStore.claim
 * (one atomic UPDATE); this module only refills and trims, in the background.
 *
 * Warm sandboxes have their own limits, checked when a pool is set (`pools`, `poolSize`, the
 * size of one sandbox, the runtime class): they do not count against the tenant's running
 * sandboxes until claimed, and a claim is checked like a create (Quota.claim). Refills run with
 * no key, so they are never refused halfway: the bound was decided at `set`.
 */
import { asAgentboxError, notFound } from '../api/errors.ts';
import type { PoolCapacity, PoolSizing, PoolView, RuntimeName } from '../api/native.ts';
import type { Engine } from '../engine/types.ts';
import type { Subject, SandboxCost } from './policy.ts';
import { capacityOf, desiredIdle, peakIdle } from '../api/pool-capacity.ts';
import type { PoolSpec, PoolStore } from './pool-store.ts';
import type { Quota } from './quota.ts';
import { newSandboxId } from '../api/ids.ts';
import { startFromRecord } from './start-from-record.ts';
import type { SandboxRecord, SandboxStore } from './sandbox-store.ts';
import type { TemplateAccess } from './templates.ts';

export interface PoolDeps {
  engine: Engine;
  store: SandboxStore;
  pools: PoolStore;
  /** Resolves a pool's template name for its tenant (own first, then public). */
  templates: Pick<TemplateAccess, 'entryFor'>;
  quota: Quota;
  now: () => number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Runtime class of warm sandboxes of pools set before pools recorded theirs. */
  defaultRuntime: RuntimeName;
  /** Sandboxes started at once per pool; 2 cores here, so small. */
  concurrency?: number;
  /** Pause after a failed start before the pool tries again, so a broken template does not spin. */
  retryMs?: number;
  /** How long after a claim its pool starts refilling (default CLAIM_REFILL_DELAY_MS). */
  claimRefillDelayMs?: number;
}

/**
 * A claim's refill waits this long, so the claimed sandbox's first commands run without a
 * restore of its replacement beside them on the host's cores: the first command after a claim
 * on an idle host took 18.7-19.8 ms against 26.4-28.0 ms with the refill started at once, on
 * 2 cores (BENCHMARKS.md, nineteenth round). The pool refills as fast as before, only this much
 * later.
 */
export const CLAIM_REFILL_DELAY_MS = 500;

/** One pool's key in the maps of its refills. */
const poolKey = (tenantId: string, template: string) => `${tenantId}\0${template}`;

export class PoolManager {
  /** Pools whose reconcile loop runs now; `dirty` asks it to run once more after. */
  private readonly active = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Refills waiting out CLAIM_REFILL_DELAY_MS, one per pool. */
  private readonly claimRefills = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly d: PoolDeps) {}

  has(tenantId: string, template: string): boolean {
    return (this.d.pools.get(tenantId, template)?.size ?? 0) > 0;
  }

  /**
   * Sets a pool of sandboxes of `cost` (the template's resources), sized by `size` or a capacity,
   * if the caller's limits allow the most it keeps idle; its members run under `runtime`, or what
   * a create without one gets.
   */
  set(s: Subject, template: string, sizing: PoolSizing, cost: SandboxCost, runtime?: RuntimeName): PoolView {
    const peak = peakIdle(capacityOf(sizing));
    const chosen = this.d.quota.checkPool(s, template, peak, cost, runtime);
    this.d.pools.set(s.tenantId, template, peak, chosen, 'size' in sizing ? undefined : sizing);
    this.refill(s.tenantId, template);
    return this.view(this.d.pools.get(s.tenantId, template)!);
  }

  get(tenantId: string, template: string): PoolView | undefined {
    const spec = this.d.pools.get(tenantId, template);
    return spec && this.view(spec);
  }

  list(tenantId: string): PoolView[] {
    return this.d.pools.list(tenantId).map((s) => this.view(s));
  }

  /** Deletes the pool; its unclaimed sandboxes are destroyed by the reconcile that follows. */
  delete(tenantId: string, template: string): boolean {
    const existed = this.d.pools.delete(tenantId, template);
    this.refill(tenantId, template);
    return existed;
  }

  private view(spec: PoolSpec): PoolView {
    const members = this.d.store.poolMembers(spec.tenantId, spec.template);
    const ready = members.filter((m) => m.state === 'running').length;
    const starting = members.filter((m) => m.state === 'creating').length;
    const allocated = this.d.store.allocatedFromPool(spec.tenantId, spec.template);
    return {
      template: spec.template, size: spec.size, runtime: spec.runtime ?? this.d.defaultRuntime, ready, starting,
      ...(spec.capacity ? { capacity: spec.capacity } : {}),
      total: ready + starting + allocated, allocated, available: ready,
    };
  }

  /** Schedules a reconcile of one pool; cheap to call after every claim. */
  refill(tenantId: string, template: string): void {
    if (this.closed) return;
    const key = poolKey(tenantId, template);
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

  /** Schedules the refill a claim from the pool needs, once its delay is out; claims meanwhile share it. */
  refillAfterClaim(tenantId: string, template: string): void {
    const key = poolKey(tenantId, template);
    if (this.closed || this.claimRefills.has(key)) return;
    this.claimRefills.set(key, setTimeout(() => {
      this.claimRefills.delete(key);
      this.refill(tenantId, template);
    }, this.d.claimRefillDelayMs ?? CLAIM_REFILL_DELAY_MS).unref());
  }

  reconcileAll(): void {
    for (const p of this.d.pools.list()) this.refill(p.tenantId, p.template);
  }

  private async reconcile(tenantId: string, template: string): Promise<void> {
    const spec = this.d.pools.get(tenantId, template);
    const capacity: PoolCapacity = spec?.capacity ?? capacityOf({ size: spec?.size ?? 0 });
    const runtime = spec?.runtime ?? this.d.defaultRuntime;
    // Members of another runtime (the pool was set again with a new one) are never claimed: replaced.
    const stale = (m: SandboxRecord) => m.state === 'failed' || (m.state === 'running' && m.runtime !== runtime);
    const members = this.d.store.poolMembers(tenantId, template);
    for (const m of members.filter(stale)) await this.remove(m.id);
    const live = members.filter((m) => !stale(m) && (m.state === 'creating' || m.state === 'running'));
    const want = desiredIdle(capacity, { idle: live.length, allocated: this.d.store.allocatedFromPool(tenantId, template) });
    if (live.length > want) {
      for (const m of live.filter((x) => x.state === 'running').slice(0, live.length - want)) await this.remove(m.id);
      return;
    }
    let missing = want - live.length;
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
      id: newSandboxId(), tenantId, template, runtime: this.d.pools.get(tenantId, template)?.runtime ?? this.d.defaultRuntime,
      state: 'creating' as const, pooled: true, fromPool: false,
      metadata: {}, claimEnv: {}, timeoutS: 0, onTimeout: 'kill' as const, autoResume: false, expiresAt: null,
      cpu: tpl.cpu, memoryMiB: tpl.memoryMiB, diskMiB: this.d.quota.diskMiB(this.d.quota.owner({ tenantId })), createdAt: this.d.now(),
    };
    this.d.store.insert(rec);
    try {
      await startFromRecord(this.d.engine, rec, tpl.name, {});
    } catch (err) {
      this.d.store.delete(rec.id);
      throw err;
    }
    await this.warmUp(rec.id);
    this.d.store.update(rec.id, { state: 'running' });
  }

  /**
   * Runs one shell command in a new pool member before it can be claimed. A fresh guest's first
   * exec costs about twice a later one (the guest compiles its exec path lazily, the sandbox
   * loads the shell for the first time): paid here, in the background, instead of by the first
   * command after a claim (issue #13, BENCHMARKS.md). Best effort: a template without a shell
   * is still a good pool member.
   */
  private async warmUp(id: string): Promise<void> {
    await this.d.engine.exec(id, { cmd: ['/bin/sh', '-c', 'true'], timeoutMs: 10_000 }).catch(() => undefined);
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
    for (const t of [...this.retryTimers, ...this.claimRefills.values()]) clearTimeout(t);
    this.retryTimers.clear();
    this.claimRefills.clear();
    await Promise.all([...this.active.values()].map((s) => s.done));
  }
}
