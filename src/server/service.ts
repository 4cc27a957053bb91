/**
 * The sandbox service: the sandbox operations of the backend every façade is handed
 * (backend.ts), with tenant checks, pool claims, timers and metrics, over the engine and the
 * state database. Façades translate wire shapes only; the logic and its side effects live here once.
 */
import { sameSecret } from './same-secret.ts';
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { EXECD_PORT } from '../api/opensandbox-execd.ts';
import { AgentboxError, asAgentboxError, notFound, sandboxEnded, type EndReason } from '../api/errors.ts';
import { DEFAULT_TIMEOUT_SECONDS, type CreateSandboxBody, type FileEntryView, type WatchEventView } from '../api/native.ts';
import type { EventData, EventType } from '../api/events.ts';
import type { EgressPolicy, Engine, ExecRequest, ExecResult, PauseOptions, SandboxInfo, SandboxUsage } from '../engine/types.ts';
import type { Principal } from './auth-store.ts';
import { type AnonymousTraffic, type Page, type ProxyTarget, type SandboxDetail, type SandboxOps, type SnapshotDetail } from './backend.ts';
import { autoResumeTimeout, expiresAt } from './expiry.ts';
import type { FileContent, FileDownload } from '../envd/files.ts';
import { readConsoleLog } from './console-log.ts';
import type { EndedStore } from './ended-store.ts';
import { EventLog } from './events/event-log.ts';
import type { SandboxFiles } from './guest-files.ts';
import type { Subject } from './policy.ts';
import type { PoolManager } from './pools.ts';
import type { Quota } from './quota.ts';
import { newSandboxId } from '../api/ids.ts';
import { PerKeyQueue } from '../api/per-key-queue.ts';
import { startFromRecord } from './start-from-record.ts';
import type { ListFilter, OnTimeoutAction, RecordState, SandboxRecord, SandboxStore } from './sandbox-store.ts';
import type { SnapshotFilter, SnapshotRecord, SnapshotStore } from './snapshot-store.ts';
import type { TemplateAccess } from './templates.ts';
import type { TrafficTokens } from './traffic-tokens.ts';
import type { VolumeService } from './volumes/volume-service.ts';

/** After a traffic-triggered resume a sandbox lives at least this long (E2B does the same). */
const AUTO_RESUME_MIN_TIMEOUT_S = 300;

export type Op = 'create' | 'claim' | 'exec' | 'pause' | 'resume' | 'fork' | 'kill';

export interface ServiceDeps {
  engine: Engine;
  store: SandboxStore;
  /** Sandboxes that expired or were killed, so calls on them say so (and when). */
  ended: EndedStore;
  snapshots: SnapshotStore;
  templates: TemplateAccess;
  files: SandboxFiles;
  pools: PoolManager;
  /** Tenant limits, checked at every path that makes a sandbox run or pauses one. */
  quota: Quota;
  now: () => number;
  /** Latency of each operation, for /metrics. */
  observe: (op: Op, ms: number) => void;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  traffic: TrafficTokens;
  events: ServiceEvents;
  /** Lifecycle events (created, updated, paused, resumed, killed), each recorded in its transition's transaction. */
  eventLog: EventLog;
  /** Resolves a create's volume names to the engine's mounts. */
  volumes: VolumeService;
}

/** What the service tells the rest of the server, so no façade has to remember it. */
export interface ServiceEvents {
  /** A sandbox's timer changed: the lifecycle loop re-plans its sleep. */
  timersChanged(): void;
  /**
   * A sandbox was paused, resumed or checkpointed: kept-alive connections to it are dead (a
   * restore leaves their host side half-open), so the proxy and the guest file clients drop them.
   */
  checkpointed(id: string): void;
}

export class SandboxService implements SandboxOps {
  /** Per-sandbox chain of state changes, so a pause and a kill never interleave. */
  private readonly queue = new PerKeyQueue();

  constructor(private readonly d: ServiceDeps) {}

  private async timed<T>(op: Op, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.d.observe(op, performance.now() - t0);
    }
  }

  private serialize<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(id, fn);
  }

  /**
   * The caller's sandbox; sandbox_ended when the caller's sandbox expired or was killed, else
   * not_found (also for other tenants' ids, live or ended: no existence leak).
   */
  private own(p: Principal, id: string): SandboxRecord {
    const rec = this.d.store.get(id);
    if (rec && !rec.pooled && rec.tenantId === p.tenantId) return rec;
    const ended = rec ? undefined : this.d.ended.find(p.tenantId, id);
    if (ended) throw sandboxEnded(id, ended.reason, new Date(ended.endedAt).toISOString());
    throw notFound('sandbox', id);
  }

  /** The engine's view of a sandbox; undefined while the engine does not know it (any other fault is thrown). */
  private engineInfo(id: string): SandboxInfo | undefined {
    try {
      return this.d.engine.get(id);
    } catch (err) {
      if (asAgentboxError(err).code === 'not_found') return undefined;
      throw err;
    }
  }

  private detail(rec: SandboxRecord, info = this.engineInfo(rec.id)): SandboxDetail {
    const d = sandboxDetail(rec, info);
    if (info) d.volumeMounts = this.d.volumes.named(info.volumes ?? []);
    return d;
  }

  /** Writes a row change that moves the sandbox's timer, and has the lifecycle loop re-plan. */
  private retime(id: string, patch: Partial<SandboxRecord>): SandboxRecord | undefined {
    const rec = this.d.store.update(id, patch);
    this.d.events.timersChanged();
    return rec;
  }

  /**
   * Writes a row change that is a lifecycle transition and its event in one transaction, so the
   * event is recorded (and its webhooks queued) exactly when the transition is.
   */
  private transition(type: EventType, id: string, patch: Partial<SandboxRecord>, data: (before: SandboxRecord) => EventData = () => ({})): SandboxRecord | undefined {
    return this.d.store.atomically(() => {
      const before = this.d.store.get(id);
      const rec = before && this.retime(id, patch);
      if (before && rec) this.d.eventLog.record(type, rec, data(before));
      return rec;
    });
  }

  async create(p: Principal, body: CreateSandboxBody): Promise<SandboxDetail> {
    // Refused before the template is looked up: a refused request never starts a first-use build.
    const runtime = this.d.quota.runtime(p, body.runtime);
    const tpl = await this.d.templates.usable(p, body.template);
    const { timeoutS, onTimeout, autoResume } = lifecyclePolicy(body);
    const volumes = this.d.volumes.mounts(p, body.volumes ?? []);
    // A warm sandbox matches when nothing fixed at start differs: runtime, resources, network and volumes.
    const claimable = body.cpu === undefined && body.memoryMiB === undefined && body.diskMiB === undefined && body.network === undefined && volumes.length === 0;
    if (claimable && this.d.pools.has(p.tenantId, body.template)) {
      const claimed = await this.timed('claim', async () => this.d.quota.claim(p, body.template, runtime, {
        metadata: body.metadata ?? {}, claimEnv: body.env ?? {}, timeoutS, onTimeout, autoResume,
        expiresAt: expiresAt(this.d.now(), timeoutS), claimedAt: this.d.now(),
      }));
      this.d.pools.refillAfterClaim(p.tenantId, body.template);
      if (claimed && (await this.applyClaimEnv(claimed.id, body.env))) {
        // Recorded once the claim stands: a warm sandbox that could not take the env is discarded unseen.
        this.d.eventLog.record('sandbox.lifecycle.created', claimed);
        this.d.events.timersChanged();
        return this.detail(claimed);
      }
    }
    const rec: SandboxRecord = {
      id: newSandboxId(), tenantId: p.tenantId, template: body.template, runtime,
      state: 'creating', pooled: false, fromPool: false, metadata: body.metadata ?? {}, claimEnv: {},
      timeoutS, onTimeout, autoResume, expiresAt: null, cpu: body.cpu ?? tpl.cpu, memoryMiB: body.memoryMiB ?? tpl.memoryMiB,
      diskMiB: this.d.quota.diskMiB(p, body.diskMiB), createdAt: this.d.now(),
    };
    return this.coldCreate(p, rec, () => startFromRecord(this.d.engine, rec, tpl.name, body.env ?? {}, body.network, volumes));
  }

  /**
   * Records a new sandbox, then has the engine make it. The row is written before the engine
   * starts anything: after a SIGKILL, recovery finds a `creating` row and removes whatever the
   * engine made for it; a failed start removes the row. The row is written only if the tenant's
   * limits admit it, in the same transaction as the check (a refused create leaves nothing).
   */
  private coldCreate(p: Principal, rec: SandboxRecord, start: () => Promise<SandboxInfo>): Promise<SandboxDetail> {
    return this.timed('create', async () => {
      this.d.quota.insert(p, rec);
      const info = await start().catch((err: unknown) => {
        this.d.store.delete(rec.id);
        throw asAgentboxError(err);
      });
      const done = this.transition('sandbox.lifecycle.created', rec.id, { state: 'running', expiresAt: expiresAt(this.d.now(), rec.timeoutS) });
      if (!done) throw new AgentboxError('internal', `sandbox '${rec.id}' vanished while it was created`);
      return this.detail(done, info);
    });
  }

  get(p: Principal, id: string): SandboxDetail {
    return this.detail(this.own(p, id));
  }

  list(p: Principal, f: ListFilter): Page<SandboxDetail> {
    const { records, next } = this.d.store.list(p.tenantId, f);
    const items = records.map((r) => this.detail(r));
    return next ? { items, next } : { items };
  }

  /**
   * A warm sandbox was started before the caller's env was known: the guest takes it now, for
   * every process (exec, background commands, PTYs, direct guest traffic). A sandbox that cannot
   * take it is discarded and the create goes on cold.
   */
  private async applyClaimEnv(id: string, env: Record<string, string> | undefined): Promise<boolean> {
    if (!env || Object.keys(env).length === 0) return true;
    try {
      await this.d.engine.setEnv(id, env);
      return true;
    } catch {
      await this.destroy(id).catch(() => undefined);
      return false;
    }
  }

  async kill(p: Principal, id: string): Promise<void> {
    this.own(p, id);
    await this.destroy(id, 'killed');
  }

  /**
   * Removes a sandbox everywhere. The row goes first: after a crash midway the engine's sandbox
   * has no row, and recovery destroys it as an orphan (a row left behind would read as a
   * sandbox the engine lost). A destroy that fails puts the row back, so the caller can retry.
   * With a `reason`, a claimed sandbox is recorded as ended in the same transaction, so a call
   * on its id finds either the sandbox or the record of its end, never neither.
   */
  async destroy(id: string, reason?: EndReason): Promise<void> {
    await this.serialize(id, () => this.timed('kill', async () => {
      const rec = this.d.store.get(id);
      const ended = reason !== undefined && rec && !rec.pooled ? { id, tenantId: rec.tenantId, reason, endedAt: this.d.now() } : undefined;
      const event = this.d.store.atomically(() => {
        this.d.store.delete(id);
        if (!ended || !rec) return undefined;
        this.d.ended.record(ended);
        return this.d.eventLog.record('sandbox.lifecycle.killed', rec, { reason: ended.reason, execution: EventLog.execution(rec, ended.endedAt) });
      });
      try {
        await this.d.engine.destroy(id);
      } catch (err) {
        if (asAgentboxError(err).code !== 'not_found') {
          if (rec) this.d.store.atomically(() => { this.d.ended.forget(id); if (event) this.d.eventLog.forget(event.seq); this.d.store.insert(rec); });
          throw err;
        }
      }
      this.d.traffic.delete(id);
      // One allocated member fewer: a pool with poolMin (api/pool-capacity.ts) may start another.
      if (rec?.fromPool) this.d.pools.refill(rec.tenantId, rec.template);
    }));
  }

  setTimeout(p: Principal, id: string, timeoutS: number): SandboxDetail {
    const rec = this.own(p, id);
    // A paused sandbox keeps no running timer: the new value applies from its resume.
    const patch = rec.state === 'running' ? { timeoutS, expiresAt: expiresAt(this.d.now(), timeoutS) } : { timeoutS };
    return this.detail(this.transition('sandbox.lifecycle.updated', id, patch, () => timerData(patch))!);
  }

  /** `memory: false` keeps only the filesystem: the resume cold-boots the sandbox. */
  async pause(p: Principal, id: string, opts: PauseOptions = {}): Promise<SandboxDetail> {
    this.own(p, id);
    return this.pauseById(id, opts, p);
  }

  /**
   * Pauses within the tenant's pausedSandboxes limit: `by` is the key that asked; a pause at the
   * timeout (no key) is checked against the owner's limits and, when refused, retried later by
   * the lifecycle loop while the sandbox keeps running (and counting as running).
   */
  async pauseById(id: string, opts: PauseOptions = {}, by?: Subject): Promise<SandboxDetail> {
    return this.serialize(id, () => this.timed('pause', async () => {
      const rec = this.d.store.get(id);
      if (!rec) throw notFound('sandbox', id);
      if (rec.state !== 'running') throw new AgentboxError('conflict', `sandbox '${id}' is ${rec.state}, only a running sandbox can be paused`, { details: { state: rec.state } });
      const release = this.d.quota.beginPause(by ?? this.d.quota.owner(rec), rec);
      try {
        const info = await this.d.engine.pause(id, opts);
        this.d.events.checkpointed(id);
        const data = (r: SandboxRecord): EventData => ({ reason: by ? 'requested' : 'timeout', execution: EventLog.execution(r, this.d.now()) });
        return this.detail(this.transition('sandbox.lifecycle.paused', id, { state: 'paused', expiresAt: null }, data)!, info);
      } finally {
        release();
      }
    }));
  }

  async resume(p: Principal, id: string): Promise<SandboxDetail> {
    this.own(p, id);
    return this.resumeById(id, undefined, {}, p);
  }

  /**
   * A resumed sandbox counts as running again: `by` is the key that asked; a resume by traffic
   * (no key) is checked against the owner's limits.
   */
  async resumeById(id: string, minTimeoutS?: number, opts: PauseOptions = {}, by?: Subject): Promise<SandboxDetail> {
    return this.serialize(id, () => this.timed('resume', async () => {
      const rec = this.d.store.get(id);
      if (!rec) throw notFound('sandbox', id);
      if (rec.state !== 'paused') throw new AgentboxError('conflict', `sandbox '${id}' is ${rec.state}, only a paused sandbox can be resumed`, { details: { state: rec.state } });
      const release = this.d.quota.beginResume(by ?? this.d.quota.owner(rec), rec);
      try {
        const info = await this.d.engine.resume(id, opts);
        this.d.events.checkpointed(id);
        const timeoutS = minTimeoutS === undefined ? rec.timeoutS : autoResumeTimeout(rec.timeoutS, minTimeoutS);
        return this.detail(this.transition('sandbox.lifecycle.resumed', id, { state: 'running', expiresAt: expiresAt(this.d.now(), timeoutS) })!, info);
      } finally {
        release();
      }
    }));
  }

  /**
   * Connects a client to a sandbox (E2B `connect`): a paused sandbox is resumed, and the timer
   * is only ever extended to `timeoutS` from now, never shortened (E2B's published spec, github.com/e2b-dev/E2B `spec/`).
   * `{memory: false}` resumes a paused sandbox from its files only.
   */
  async connect(p: Principal, id: string, timeoutS: number, opts: PauseOptions = {}): Promise<{ detail: SandboxDetail; resumed: boolean }> {
    const rec = this.own(p, id);
    let resumed = false;
    if (rec.state === 'paused') {
      await this.resumeById(id, undefined, opts, p).catch((err: unknown) => {
        // A concurrent connect (or auto-resume) may have resumed it first.
        if (asAgentboxError(err).code !== 'conflict') throw err;
      });
      resumed = true;
    }
    const now = this.d.store.get(id);
    if (now?.state !== 'running') throw new AgentboxError('conflict', `sandbox '${id}' is ${now?.state ?? 'gone'}; it cannot be connected to`);
    const wanted = expiresAt(this.d.now(), timeoutS);
    if (now.expiresAt !== null && now.expiresAt >= wanted) return { detail: this.detail(now), resumed };
    const patch = { expiresAt: wanted, timeoutS: Math.max(now.timeoutS, timeoutS) };
    // A connect that resumed the sandbox is its `resumed` event; the timer it sets is part of it.
    if (resumed) return { detail: this.detail(this.retime(id, patch)!), resumed };
    return { detail: this.detail(this.transition('sandbox.lifecycle.updated', id, patch, () => timerData(patch))!), resumed };
  }

  /**
   * The sandbox's console log (guest log and start command output), in any state; see
   * console-log.ts. Checked at the call, so a bad id fails before a response starts.
   */
  logs(p: Principal, id: string, opts: { follow: boolean; signal: AbortSignal }): AsyncIterable<Uint8Array> {
    this.own(p, id);
    const path = this.d.engine.logPath(id);
    return readConsoleLog(path, { ...opts, ended: () => this.d.store.get(id) === undefined });
  }

  /** Resource usage of a running sandbox right now (for metrics façades). */
  async usage(p: Principal, id: string): Promise<SandboxUsage> {
    this.running(p, id);
    return this.d.engine.inspect(id);
  }

  /** Replaces the egress policy of a running sandbox. */
  async setNetwork(p: Principal, id: string, policy: EgressPolicy): Promise<SandboxDetail> {
    this.running(p, id);
    const info = await this.d.engine.setEgress(id, policy);
    return this.detail(this.d.store.get(id)!, info);
  }

  /**
   * Makes a sandbox's ports (all but the guest's) private to anonymous traffic: it must carry
   * the returned token (E2B `allowPublicTraffic: false`).
   */
  makeTrafficPrivate(p: Principal, id: string): string {
    this.own(p, id);
    return this.d.traffic.mint(id);
  }

  /** The sandbox's traffic token, or undefined when its ports are public. */
  trafficToken(p: Principal, id: string): string | undefined {
    this.own(p, id);
    return this.d.traffic.get(id);
  }

  /** Refuses an E2B fork call asking for more copies than the caller's forksPerCall. */
  checkForkCount(p: Principal, count: number): void {
    this.d.quota.checkForks(p, count);
  }

  async fork(p: Principal, id: string, opts: { metadata?: Record<string, string>; timeoutSeconds?: number }): Promise<SandboxDetail> {
    const src = this.own(p, id);
    if (src.state !== 'running') throw new AgentboxError('conflict', `sandbox '${id}' is ${src.state}; resume it before forking`);
    // The copy runs under the source's runtime class, which the caller must still be allowed.
    this.d.quota.runtime(p, src.runtime);
    return this.timed('fork', async () => {
      const newId = newSandboxId();
      const timeoutS = opts.timeoutSeconds ?? src.timeoutS;
      this.d.quota.insert(p, {
        ...src, id: newId, state: 'creating', pooled: false, fromPool: false, metadata: opts.metadata ?? src.metadata,
        timeoutS, expiresAt: null, createdAt: this.d.now(),
      });
      const info = await this.d.engine.fork(id, { id: newId }).catch((err: unknown) => {
        this.d.store.delete(newId);
        throw asAgentboxError(err);
      });
      // The fork checkpointed the source.
      this.d.events.checkpointed(id);
      return this.detail(this.transition('sandbox.lifecycle.created', newId, { state: 'running', expiresAt: expiresAt(this.d.now(), timeoutS) })!, info);
    });
  }

  /**
   * Checkpoints a running sandbox (it keeps running) into a snapshot the tenant owns; new
   * sandboxes start from it by id or name (`createFromSnapshot`). It outlives its sandbox.
   */
  async snapshot(p: Principal, id: string, name?: string): Promise<SnapshotDetail> {
    const src = this.running(p, id);
    if (name !== undefined && this.d.snapshots.nameTaken(p.tenantId, name)) throw new AgentboxError('already_exists', `snapshot name '${name}' is taken: choose another name`);
    const info = await this.serialize(id, () => this.d.engine.snapshot(id));
    this.d.events.checkpointed(id);
    const rec: SnapshotRecord = {
      id: info.id, tenantId: p.tenantId, sandboxId: id, template: src.template, runtime: src.runtime,
      cpu: src.cpu, memoryMiB: src.memoryMiB, createdAt: this.d.now(), ...(name !== undefined ? { name } : {}),
    };
    try {
      this.d.snapshots.insert(rec);
    } catch (err) {
      // A concurrent snapshot took the name: do not leave an unowned checkpoint behind.
      await this.d.engine.deleteSnapshot(info.id).catch(() => undefined);
      throw err;
    }
    return snapshotDetail(rec);
  }

  /** The caller's snapshot by id or name, if any. */
  findSnapshot(p: Principal, ref: string): SnapshotDetail | undefined {
    const rec = this.d.snapshots.find(p.tenantId, ref);
    return rec && snapshotDetail(rec);
  }

  listSnapshots(p: Principal, f: SnapshotFilter): Page<SnapshotDetail> {
    const { records, next } = this.d.snapshots.list(p.tenantId, f);
    const items = records.map(snapshotDetail);
    return next ? { items, next } : { items };
  }

  async deleteSnapshot(p: Principal, ref: string): Promise<void> {
    const snap = this.d.snapshots.find(p.tenantId, ref);
    if (!snap) throw notFound('snapshot', ref);
    await this.d.engine.deleteSnapshot(snap.id).catch((err: unknown) => {
      if (asAgentboxError(err).code !== 'not_found') throw err;
    });
    this.d.snapshots.delete(snap.id);
  }

  /** A new sandbox restored from one of the caller's snapshots (memory, processes and files). */
  async createFromSnapshot(p: Principal, ref: string, body: Omit<CreateSandboxBody, 'template' | 'cpu' | 'memoryMiB' | 'diskMiB' | 'network' | 'runtime'>): Promise<SandboxDetail> {
    const snap = this.d.snapshots.find(p.tenantId, ref);
    if (!snap) throw notFound('snapshot', ref);
    const { timeoutS, onTimeout, autoResume } = lifecyclePolicy(body);
    const rec: SandboxRecord = {
      id: newSandboxId(), tenantId: p.tenantId, template: snap.template, runtime: this.d.quota.runtime(p, snap.runtime), state: 'creating', pooled: false, fromPool: false,
      metadata: body.metadata ?? {}, claimEnv: {}, timeoutS, onTimeout, autoResume, expiresAt: null, cpu: snap.cpu, memoryMiB: snap.memoryMiB,
      diskMiB: this.d.quota.diskMiB(p), createdAt: this.d.now(),
    };
    return this.coldCreate(p, rec, () => this.d.engine.restoreSnapshot(snap.id, { id: rec.id, ...(body.env ? { env: body.env } : {}) }));
  }

  private running(p: Principal, id: string): SandboxRecord {
    const rec = this.own(p, id);
    if (rec.state !== 'running') throw new AgentboxError('conflict', `sandbox '${id}' is ${rec.state}; resume it first`, { details: { state: rec.state } });
    return rec;
  }

  async exec(p: Principal, id: string, req: ExecRequest): Promise<ExecResult> {
    this.running(p, id);
    return this.timed('exec', () => this.d.engine.exec(id, req));
  }

  private guest(p: Principal, id: string) {
    this.running(p, id);
    const info = this.engineInfo(id);
    if (!info) throw new AgentboxError('unavailable', `sandbox '${id}' is not known to the engine; retry in a moment`);
    return { ...info.guest, sandbox: id };
  }

  readFile(p: Principal, id: string, path: string): Promise<FileDownload> { return this.d.files.read(this.guest(p, id), path); }
  writeFile(p: Principal, id: string, path: string, data: FileContent): Promise<FileEntryView> { return this.d.files.write(this.guest(p, id), path, data); }
  removeFile(p: Principal, id: string, path: string): Promise<void> { return this.d.files.remove(this.guest(p, id), path); }
  listFiles(p: Principal, id: string, path: string, depth: number): Promise<FileEntryView[]> { return this.d.files.list(this.guest(p, id), path, depth); }
  statFile(p: Principal, id: string, path: string): Promise<FileEntryView> { return this.d.files.stat(this.guest(p, id), path); }
  watchFiles(p: Principal, id: string, path: string, onEvent: (e: WatchEventView) => void | Promise<void>, signal: AbortSignal): Promise<void> {
    return this.d.files.watch(this.guest(p, id), path, onEvent, signal);
  }

  /**
   * Where traffic for `port` of a sandbox goes. `p` is null for anonymous traffic (host routing
   * `<port>-<id>.<domain>`, E2B's sandbox traffic), which must pass `admitAnonymous` first, so a
   * request that would be refused never resumes a paused sandbox. A paused sandbox created with
   * autoResume is resumed. With `guestByToken` (the E2B façade) the guest port is reachable
   * without an API key and no token is added: the client presents the guest's own X-Access-Token.
   */
  async proxyTarget(p: Principal | null, id: string, port: number, opts: AnonymousTraffic = {}): Promise<ProxyTarget> {
    const rec = p ? this.own(p, id) : this.d.store.get(id);
    if (!rec || rec.pooled) throw notFound('sandbox', id);
    if (!p) this.admitAnonymous(rec, port, opts);
    if (rec.state === 'paused' && rec.autoResume) {
      await this.resumeById(id, AUTO_RESUME_MIN_TIMEOUT_S).catch((err: unknown) => {
        // A concurrent request may have resumed it already.
        if (asAgentboxError(err).code !== 'conflict') throw err;
      });
    }
    const now = this.d.store.get(id);
    if (now?.state !== 'running') throw new AgentboxError('conflict', `sandbox '${id}' is ${now?.state ?? 'gone'}; resume it to reach its ports`);
    const info = this.engineInfo(id);
    if (!info) throw new AgentboxError('unavailable', `sandbox '${id}' is not known to the engine; retry in a moment`);
    if (port === GUEST_PORT) {
      if (opts.guestByToken) return { url: info.guest.url };
      return { url: info.guest.url, accessToken: info.guest.accessToken };
    }
    const url = `http://${hostPort(info.address, port)}`;
    // execd (src/guest/execd) checks the same token as the guest, and the code interpreter's
    // /execute hands it to the guest to read the sandbox's env (templates/code-interpreter-v1.yaml):
    // a caller with an API key gets it added; anonymous traffic must bring it itself.
    if (p && (port === EXECD_PORT || opts.needsAccessToken)) return { url, accessToken: info.guest.accessToken };
    return { url };
  }

  /**
   * The checks on anonymous traffic, made before anything else happens for it: the guest port
   * only through the E2B façade (the guest checks the token; a paused sandbox is woken only by
   * the right one), requests the gateway marks (the code interpreter's /execute) only with the
   * guest's token, and a sandbox with a traffic token only with that token.
   */
  private admitAnonymous(rec: SandboxRecord, port: number, opts: AnonymousTraffic): void {
    const c = opts.credentials ?? {};
    const guestToken = () => this.engineInfo(rec.id)?.guest.accessToken;
    if (port === GUEST_PORT) {
      if (!opts.guestByToken) throw new AgentboxError('permission_denied', `port ${GUEST_PORT} (the guest daemon) is reachable only through /v1/sandboxes/{id}/ports with an API key`);
      if (rec.state === 'paused' && !sameSecret(c.accessToken, guestToken())) {
        throw new AgentboxError('unauthenticated', `sandbox '${rec.id}' is paused; only a request with its X-Access-Token resumes it`);
      }
      return;
    }
    if (opts.needsAccessToken && !sameSecret(c.accessToken, guestToken())) {
      throw new AgentboxError('unauthenticated', `this request to port ${port} runs code: send the sandbox's envdAccessToken in X-Access-Token`);
    }
    const traffic = this.d.traffic.get(rec.id);
    if (traffic !== undefined && !sameSecret(c.trafficToken, traffic)) {
      throw new AgentboxError('permission_denied', `the ports of sandbox '${rec.id}' are private: send its trafficAccessToken in the e2b-traffic-access-token header`);
    }
  }

  /** Applies the lifecycle action of an expired sandbox (called by the lifecycle loop). */
  async expire(rec: SandboxRecord, action: OnTimeoutAction): Promise<void> {
    this.d.log(`timeout: ${action} ${rec.id}`);
    if (action === 'kill') await this.destroy(rec.id, 'expired');
    else await this.pauseById(rec.id, { memory: action === 'pause' });
  }

  /** Sandboxes per server state and pool membership, for /metrics. */
  counts(): { state: RecordState | 'pooled'; n: number }[] {
    return this.d.store.countByState().map((r) => ({ state: r.pooled ? 'pooled' : (r.state as RecordState), n: r.n }));
  }
}


/** The façades' view of a row plus what the engine knows of it. */
function sandboxDetail(r: SandboxRecord, info: SandboxInfo | undefined): SandboxDetail {
  const d: SandboxDetail = {
    id: r.id, template: r.template, runtime: r.runtime, state: r.state, metadata: r.metadata,
    createdAt: new Date(r.createdAt).toISOString(), timeoutSeconds: r.timeoutS, onTimeout: r.onTimeout,
    autoResume: r.autoResume, cpu: r.cpu, memoryMiB: r.memoryMiB, fromPool: r.fromPool,
  };
  if (r.expiresAt !== null) d.expiresAt = new Date(r.expiresAt).toISOString();
  if (r.error) d.error = r.error;
  if (info) {
    d.guest = { envdVersion: info.guest.envdVersion, accessToken: info.guest.accessToken };
    d.diskMiB = info.limits.diskMiB;
    if (info.disk) d.disk = { ...info.disk };
    d.egress = info.egress;
    if (info.pausedAt) d.pausedAt = info.pausedAt;
  }
  return d;
}

function snapshotDetail(s: SnapshotRecord): SnapshotDetail {
  return { id: s.id, sandboxId: s.sandboxId, template: s.template, createdAt: new Date(s.createdAt).toISOString(), ...(s.name !== undefined ? { name: s.name } : {}) };
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** An `updated` event's data: when the timer now ends, if it runs. */
function timerData(patch: Partial<SandboxRecord>): EventData {
  return typeof patch.expiresAt === 'number' ? { expiresAt: new Date(patch.expiresAt).toISOString() } : {};
}

/** Timeout and what happens at it, with the defaults; autoResume only makes sense after a pause. */
function lifecyclePolicy(body: Pick<CreateSandboxBody, 'timeoutSeconds' | 'onTimeout' | 'autoResume'>): Pick<SandboxRecord, 'timeoutS' | 'onTimeout' | 'autoResume'> {
  const timeoutS = body.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const onTimeout = body.onTimeout ?? 'kill';
  const autoResume = body.autoResume ?? false;
  if (autoResume && onTimeout === 'kill') throw new AgentboxError('invalid_argument', 'autoResume needs onTimeout "pause" or "pause_filesystem" (a killed sandbox cannot resume)');
  return { timeoutS, onTimeout, autoResume };
}
