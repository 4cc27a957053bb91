/**
 * Applies the server policy (policy.ts) at every path that makes a sandbox run or keeps one:
 * create (cold and warm claim), fork, create from a snapshot, resume, pause, pool set, fork
 * count and template builds.
 *
 * Race-free by construction: a check and the row it admits are written in one SQLite
 * transaction with no `await` between them, and the row (state `creating`) holds the room until
 * the engine is done, so N concurrent creates against a limit of K admit exactly K. A resume or
 * pause changes its row only after the engine finishes, so the room it takes is held here in
 * memory (`inflight`) from the check until the row shows the outcome.
 */
import type { LimitsPatch, LimitsView, PolicyView, RuntimeName, TenantLimitsView, TenantView, UsageView } from '../api/native.ts';
import type { PolicyStore } from './policy-store.ts';
import {
  BUILTIN_LIMITS, checkBuild, checkForks, checkPause, checkPool, checkStart, defaultLimits, quotaExceeded, resolveRuntime, subjectLimits,
  tenantLimits, withTenant, type HostCapacity, type SandboxCost, type Subject,
} from './policy.ts';
import type { PoolStore } from './pool-store.ts';
import type { ClaimPatch, SandboxRecord, SandboxStore, SandboxUsage } from './sandbox-store.ts';

export interface QuotaDeps {
  policy: PolicyStore;
  store: SandboxStore;
  pools: PoolStore;
  host: HostCapacity;
  defaultRuntime: RuntimeName;
  /** Name of a tenant by id, for work done on a tenant's behalf without a key (timers, traffic). */
  tenantName: (tenantId: string) => string;
}

interface Inflight { tenantId: string; kind: 'resume' | 'pause'; cost: SandboxCost }

export class Quota {
  private readonly inflight = new Map<string, Inflight>();
  /** Template builds running now, per tenant id. */
  private readonly building = new Map<string, number>();

  constructor(private readonly d: QuotaDeps) {}

  limits(s: Subject): LimitsView {
    return subjectLimits(this.d.policy.current(), s, this.d.host);
  }

  /** The tenant that owns a sandbox, for checks of work no key asked for. */
  owner(rec: Pick<SandboxRecord, 'tenantId'>): Subject {
    return { tenantId: rec.tenantId, tenantName: this.d.tenantName(rec.tenantId), admin: false };
  }

  /** The runtime class a request runs under; 403 permission_denied when it names one not allowed. */
  runtime(s: Subject, requested?: RuntimeName): RuntimeName {
    return resolveRuntime(this.limits(s), requested, this.d.defaultRuntime, s);
  }

  /**
   * Disk size a new sandbox of `s` gets: the size it asked for, else the policy's `diskMiB`,
   * which is also the most a tenant may ask for (an admin's request goes to the engine, which
   * holds it to its own maximum).
   */
  diskMiB(s: Subject, requested?: number): number {
    const max = this.limits(s).diskMiB;
    if (requested === undefined) return max;
    if (!s.admin && requested > max) throw quotaExceeded(s, 'diskMiB', 0, requested, max, 'ask for a smaller disk');
    return requested;
  }

  /** Claimed sandboxes' use, with the resumes and pauses in flight counted as done. */
  private sandboxUse(tenantId: string): SandboxUsage {
    const u = this.d.store.usage(tenantId);
    for (const f of this.inflight.values()) {
      if (f.tenantId !== tenantId) continue;
      if (f.kind === 'pause') { u.pausedSandboxes++; continue; }
      u.runningSandboxes++;
      u.totalCpu += f.cost.cpu;
      u.totalMemoryMiB += f.cost.memoryMiB;
    }
    return u;
  }

  usage(tenantId: string): UsageView {
    return {
      ...this.sandboxUse(tenantId),
      pools: this.d.pools.list(tenantId).filter((p) => p.size > 0).length,
      builds: this.building.get(tenantId) ?? 0,
    };
  }

  /** Writes the row of a new sandbox if it fits; 429 quota_exceeded otherwise (nothing written). */
  insert(s: Subject, rec: SandboxRecord): void {
    this.d.store.atomically(() => {
      checkStart(this.limits(s), this.sandboxUse(s.tenantId), rec, s);
      this.d.store.insert(rec);
    });
  }

  /** Claims a warm sandbox if one is ready and it fits; a refused claim leaves it in the pool. */
  claim(s: Subject, template: string, runtime: RuntimeName, patch: ClaimPatch): SandboxRecord | undefined {
    return this.d.store.atomically(() => {
      const use = this.sandboxUse(s.tenantId);
      const claimed = this.d.store.claim(s.tenantId, template, runtime, patch);
      if (claimed) checkStart(this.limits(s), use, claimed, s);
      return claimed;
    });
  }

  /** Holds room for resuming `rec` (it counts as running); call the release once its row says how it ended. */
  beginResume(s: Subject, rec: SandboxRecord): () => void {
    checkStart(this.limits(s), this.sandboxUse(s.tenantId), rec, s);
    return this.hold(rec, 'resume');
  }

  /** Holds room for pausing `rec` (it counts as paused too, until its row says paused). */
  beginPause(s: Subject, rec: SandboxRecord): () => void {
    checkPause(this.limits(s), this.sandboxUse(s.tenantId), s);
    return this.hold(rec, 'pause');
  }

  private hold(rec: SandboxRecord, kind: Inflight['kind']): () => void {
    this.inflight.set(rec.id, { tenantId: rec.tenantId, kind, cost: { cpu: rec.cpu, memoryMiB: rec.memoryMiB } });
    return () => { this.inflight.delete(rec.id); };
  }

  /** A pool of `size` sandboxes of `cost` for `template`; returns the runtime class its members run under. */
  checkPool(s: Subject, template: string, size: number, cost: SandboxCost, runtime?: RuntimeName): RuntimeName {
    const chosen = this.runtime(s, runtime);
    const others = this.d.pools.list(s.tenantId).filter((p) => p.template !== template && p.size > 0).length;
    checkPool(this.limits(s), others, size, cost, s);
    return chosen;
  }

  checkForks(s: Subject, count: number): void {
    checkForks(this.limits(s), count, s);
  }

  /** Counts a template build of `s` until the release is called; 429 when it has too many running. */
  beginBuild(s: Subject): () => void {
    const n = this.building.get(s.tenantId) ?? 0;
    checkBuild(this.limits(s), n, s);
    this.building.set(s.tenantId, n + 1);
    return () => {
      const left = (this.building.get(s.tenantId) ?? 1) - 1;
      if (left > 0) this.building.set(s.tenantId, left); else this.building.delete(s.tenantId);
    };
  }

  policyView(): PolicyView {
    const doc = this.d.policy.current();
    return { builtin: BUILTIN_LIMITS, defaults: doc.defaults, effective: defaultLimits(doc, this.d.host), tenants: doc.tenants, host: this.d.host };
  }

  setDefaults(defaults: LimitsPatch): PolicyView {
    this.d.policy.replace({ ...this.d.policy.current(), defaults });
    return this.policyView();
  }

  tenantView(t: Pick<TenantView, 'id' | 'name'>, asAdmin = false): TenantLimitsView {
    const doc = this.d.policy.current();
    const v: TenantLimitsView = { tenant: t.name, limits: tenantLimits(doc, t.name, this.d.host), overrides: doc.tenants[t.name] ?? {}, usage: this.usage(t.id) };
    if (asAdmin) v.unlimited = true;
    return v;
  }

  /** Replaces (or, with undefined, removes) a tenant's overrides; false when there were none to remove. */
  setTenant(t: Pick<TenantView, 'name'>, patch: LimitsPatch | undefined): boolean {
    const doc = this.d.policy.current();
    const had = doc.tenants[t.name] !== undefined;
    if (patch === undefined && !had) return false;
    this.d.policy.replace(withTenant(doc, t.name, patch));
    return true;
  }
}
