/**
 * The server policy as pure functions (docs/architecture.md, rule “time is a parameter”): which limits a tenant gets, which runtime
 * class a request runs under, and whether one more sandbox, pause, pool, fork or build fits.
 * Every input (the policy document, the host, the current use) is a parameter, so the rules are
 * tested without a server; policy-store.ts keeps the document, quota.ts applies the rules.
 */
import { AgentboxError } from '../api/errors.ts';
import { RuntimeName, type LimitsPatch, type LimitsView, type PolicyDocument, type UsageView } from '../api/native.ts';

/**
 * Built-in limits, sized for the smallest host agentbox is run on (2 cores, 24 GiB): a tenant
 * holds at most a third of the memory, one core of CPU limit per running sandbox (CFS limits are
 * ceilings, not reservations, so their sum may pass the core count), one sandbox at most the
 * whole host's cores, and only gVisor (runc shares the host kernel: an admin opts a tenant in).
 */
export const BUILTIN_LIMITS: LimitsView = {
  runningSandboxes: 10,
  pausedSandboxes: 20,
  totalCpu: 10,
  totalMemoryMiB: 8192,
  sandboxCpuMax: 2,
  sandboxMemoryMiBMax: 4096,
  diskMiB: 4096,
  pools: 2,
  poolSize: 2,
  concurrentBuilds: 1,
  forksPerCall: 4,
  runtimes: ['gvisor'],
};

export interface HostCapacity {
  cpus: number;
  memoryMiB: number;
}

/** Who a limit applies to: a key's principal, or the owner of a sandbox for background work. */
export interface Subject {
  tenantId: string;
  tenantName: string;
  /** Admin keys are the operator's: no count, total or runtime limit applies to them. */
  admin: boolean;
}

/** What one more sandbox adds to its tenant's use. */
export interface SandboxCost {
  cpu: number;
  memoryMiB: number;
}

export type SandboxUse = Pick<UsageView, 'runningSandboxes' | 'pausedSandboxes' | 'totalCpu' | 'totalMemoryMiB'>;

const EMPTY_POLICY: PolicyDocument = { defaults: {}, tenants: {} };
export const emptyPolicy = (): PolicyDocument => structuredClone(EMPTY_POLICY);

/** Per-sandbox maxima never exceed what the host has: one sandbox cannot be promised more. */
export function clampToHost(l: LimitsView, host: HostCapacity): LimitsView {
  return { ...l, sandboxCpuMax: Math.min(l.sandboxCpuMax, host.cpus), sandboxMemoryMiBMax: Math.min(l.sandboxMemoryMiBMax, host.memoryMiB) };
}

/** Limits every tenant without overrides gets: built-in ⊕ the document's defaults, clamped to the host. */
export function defaultLimits(doc: PolicyDocument, host: HostCapacity): LimitsView {
  return clampToHost({ ...BUILTIN_LIMITS, ...doc.defaults }, host);
}

/** A tenant's limits: built-in ⊕ defaults ⊕ its overrides, clamped to the host. */
export function tenantLimits(doc: PolicyDocument, tenantName: string, host: HostCapacity): LimitsView {
  return clampToHost({ ...BUILTIN_LIMITS, ...doc.defaults, ...doc.tenants[tenantName] }, host);
}

/**
 * The limits a subject is held to. An admin key keeps its tenant's disk size but no count,
 * total or runtime limit; one sandbox still cannot be larger than the host.
 */
export function subjectLimits(doc: PolicyDocument, s: Subject, host: HostCapacity): LimitsView {
  const t = tenantLimits(doc, s.tenantName, host);
  if (!s.admin) return t;
  const inf = Number.POSITIVE_INFINITY;
  return {
    ...t, runningSandboxes: inf, pausedSandboxes: inf, totalCpu: inf, totalMemoryMiB: inf, pools: inf, poolSize: inf,
    concurrentBuilds: inf, forksPerCall: inf, sandboxCpuMax: host.cpus, sandboxMemoryMiBMax: host.memoryMiB, runtimes: [...RuntimeName.options],
  };
}

/** A document with one tenant's overrides replaced (`undefined` removes them). */
export function withTenant(doc: PolicyDocument, tenantName: string, patch: LimitsPatch | undefined): PolicyDocument {
  const tenants = { ...doc.tenants };
  if (patch === undefined) delete tenants[tenantName];
  else tenants[tenantName] = patch;
  return { ...doc, tenants };
}

/**
 * The runtime class a request runs under. A named one must be allowed (403 otherwise); without
 * one, the server's default if the subject may use it, else the first runtime it may use.
 */
export function resolveRuntime(limits: LimitsView, requested: RuntimeName | undefined, serverDefault: RuntimeName, s: Subject): RuntimeName {
  if (requested === undefined) return limits.runtimes.includes(serverDefault) ? serverDefault : limits.runtimes[0]!;
  if (!limits.runtimes.includes(requested)) {
    throw new AgentboxError('permission_denied', `runtime '${requested}' is not allowed for tenant '${s.tenantName}': allowed: ${limits.runtimes.join(', ')}. Leave runtime out, or ask an admin to allow it (agentbox tenant limits ${s.tenantName} runtimes=${[...limits.runtimes, requested].join(',')})`, {
      details: { runtime: requested, allowed: limits.runtimes },
    });
  }
  return requested;
}

/** 429 quota_exceeded: `used + requested > max` for the named limit. */
export function quotaExceeded(s: Subject, limit: keyof LimitsView, used: number, requested: number, max: number, hint: string): AgentboxError {
  const r = (n: number) => Math.round(n * 1000) / 1000;
  return new AgentboxError('quota_exceeded',
    `quota exceeded: tenant '${s.tenantName}' ${limit} is ${r(used)} in use + ${r(requested)} requested, over the maximum of ${r(max)}; ${hint}, or ask an admin to raise ${limit}`,
    { details: { limit, used: r(used), requested: r(requested), max, tenant: s.tenantName } });
}

/** Sums compare with a little slack: 0.1 + 0.2 CPU must fit under 0.3. */
const over = (used: number, requested: number, max: number) => used + requested > max + 1e-9;

/** Refuses a sandbox larger than one sandbox may be. */
export function checkSandboxSize(l: LimitsView, cost: SandboxCost, s: Subject): void {
  if (over(0, cost.cpu, l.sandboxCpuMax)) throw quotaExceeded(s, 'sandboxCpuMax', 0, cost.cpu, l.sandboxCpuMax, 'ask for fewer cores');
  if (over(0, cost.memoryMiB, l.sandboxMemoryMiBMax)) throw quotaExceeded(s, 'sandboxMemoryMiBMax', 0, cost.memoryMiB, l.sandboxMemoryMiBMax, 'ask for less memory');
}

/** Refuses one more running sandboxes of `cost` when the tenant's running count or totals would pass a limit. */
export function checkStart(l: LimitsView, use: SandboxUse, cost: SandboxCost, s: Subject): void {
  checkSandboxSize(l, cost, s);
  const free = 'kill or pause a sandbox first';
  if (over(use.runningSandboxes, 1, l.runningSandboxes)) throw quotaExceeded(s, 'runningSandboxes', use.runningSandboxes, 1, l.runningSandboxes, free);
  if (over(use.totalCpu, cost.cpu, l.totalCpu)) throw quotaExceeded(s, 'totalCpu', use.totalCpu, cost.cpu, l.totalCpu, free);
  if (over(use.totalMemoryMiB, cost.memoryMiB, l.totalMemoryMiB)) throw quotaExceeded(s, 'totalMemoryMiB', use.totalMemoryMiB, cost.memoryMiB, l.totalMemoryMiB, free);
}

export function checkPause(l: LimitsView, use: SandboxUse, s: Subject): void {
  if (over(use.pausedSandboxes, 1, l.pausedSandboxes)) throw quotaExceeded(s, 'pausedSandboxes', use.pausedSandboxes, 1, l.pausedSandboxes, 'kill a paused sandbox first');
}

/**
 * A pool of `size` warm sandboxes of `cost`: `pools` counts the tenant's other pools with a size
 * above 0 (a pool resized in place is not a new one).
 */
export function checkPool(l: LimitsView, otherPools: number, size: number, cost: SandboxCost, s: Subject): void {
  if (size === 0) return;
  checkSandboxSize(l, cost, s);
  if (over(0, size, l.poolSize)) throw quotaExceeded(s, 'poolSize', 0, size, l.poolSize, 'ask for a smaller pool');
  if (over(otherPools, 1, l.pools)) throw quotaExceeded(s, 'pools', otherPools, 1, l.pools, 'delete a pool first');
}

export function checkForks(l: LimitsView, count: number, s: Subject): void {
  if (over(0, count, l.forksPerCall)) throw quotaExceeded(s, 'forksPerCall', 0, count, l.forksPerCall, 'ask for fewer forks per call');
}

export function checkBuild(l: LimitsView, building: number, s: Subject): void {
  if (over(building, 1, l.concurrentBuilds)) throw quotaExceeded(s, 'concurrentBuilds', building, 1, l.concurrentBuilds, 'wait for a build to finish');
}
