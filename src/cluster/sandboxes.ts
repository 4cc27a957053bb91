/**
 * SandboxOps over the Agent Sandbox API: a sandbox is a SandboxClaim named by the sandbox id,
 * labelled with its tenant and template, bound by the operator to a warm pool member or a cold
 * Sandbox; its timeout is the claim's lifecycle.shutdownTime (shutdownPolicy Delete). Commands and
 * files reach the pod's injected guest through the sandbox router (router-access.ts). What the
 * cluster cannot do yet answers `not_supported` (docs/kubernetes.md lists it), never a pretence.
 */
import { AgentboxError, conflict, notFound } from '../api/errors.ts';
import type { CreateSandboxBody, FileEntryView, WatchEventView } from '../api/native.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../api/native.ts';
import { ANNOTATION, CONDITION, OPERATING_MODE, SHUTDOWN_POLICY } from '../api/k8s/constants.ts';
import type { Sandbox, SandboxClaim, SandboxTemplate, SandboxWarmPool } from '../api/k8s/types.ts';
import { newSandboxId } from '../api/ids.ts';
import { parseCpu, parseMemoryMiB } from '../api/quantity.ts';
import { EXECD_PORT } from '../api/opensandbox-execd.ts';
import { createGuestClient, type GuestClient } from '../envd/client.ts';
import { isAlreadyExists, isNotFound, type KubeClient } from '../k8s/client.ts';
import { findCondition } from '../k8s/conditions.ts';
import { guestSecretNameOf, readGuestSecret, type GuestSecret, type Secret } from '../k8s/extensions/guest-secret.ts';
import type { Informer } from '../k8s/informer.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../k8s/resources.ts';
import {
  GUEST_PORT, type ExecRequest, type PauseOptions, type ExecResult, type FileContent, type FileDownload, type ListFilter, type Page, type Principal,
  type ProxyTarget, type SandboxDetail, type SandboxOps, type SnapshotDetail,
} from '../server/backend.ts';
import type { GuestAddress, SandboxFiles } from '../server/guest-files.ts';
import { KeyedPool } from '../server/keyed-pool.ts';
import { sameSecret } from '../server/same-secret.ts';
import type { ChangeSignal } from './change-signal.ts';
import { boundSandboxOf, claimDetail, claimState, claimVolumes, pausesFilesystem, shutdownTimeAfter } from './claim-view.ts';
import { CLUSTER_ANNOTATION, CLUSTER_LABEL } from './labels.ts';
import type { RouterRoutes } from './router-access.ts';
import type { ClusterVolumes } from './volumes.ts';

export interface ClusterSandboxesDeps {
  client: KubeClient;
  namespace: string;
  claims: Informer<SandboxClaim>;
  sandboxes: Informer<Sandbox>;
  guestSecrets: Informer<Secret>;
  changes: ChangeSignal;
  routes: RouterRoutes;
  files: SandboxFiles;
  /** Resolves a create's `volumes` to the tenant's PVCs. */
  volumes: Pick<ClusterVolumes, 'claimVolumes'>;
  now: () => number;
  /** How long a create waits for its claim to be Ready and its guest to answer (default 120 s). */
  startTimeoutMs?: number;
}

const notSupported = (what: string, instead: string) =>
  new AgentboxError('not_supported', `${what} is not available on the Kubernetes backend yet; ${instead} (docs/kubernetes.md)`);

/** Options of a create that the cluster cannot honour; each is refused by name rather than ignored. */
function refuseUnsupported(body: CreateSandboxBody): void {
  if (body.runtime && body.runtime !== 'gvisor') throw notSupported(`runtime '${body.runtime}'`, 'the SandboxTemplate\'s runtimeClassName chooses the runtime');
  if (body.diskMiB !== undefined) throw notSupported('\'diskMiB\' at create', 'set the volume size in the SandboxTemplate\'s volumeClaimTemplates');
  if (body.network) throw notSupported('a per-sandbox network policy', 'set networkPolicy in the SandboxTemplate');
  if (body.onTimeout === 'pause') throw notSupported('onTimeout \'pause\' (memory pause)', 'memory pause on Kubernetes is the next issue; use onTimeout pause_filesystem (pod deleted, volumes kept) or kill');
  if (body.autoResume) throw notSupported('autoResume', 'resume a paused sandbox with connect or resume');
}

/**
 * On a cluster the SandboxTemplate sets a sandbox's resources (its pods come from it, often from
 * a warm pool started before the create), so a create's `cpu` and `memoryMiB` are what it needs at
 * least: accepted when the template's main container limits give that much (or set no limit), and
 * refused, naming both, when they do not. Never silently less than asked.
 */
function fitsTemplate(t: SandboxTemplate, body: CreateSandboxBody): void {
  const limits = (t.spec.podTemplate.spec.containers[0]?.resources as { limits?: Record<string, string> } | undefined)?.limits ?? {};
  const name = t.metadata.name;
  if (body.cpu !== undefined && limits.cpu !== undefined && parseCpu(limits.cpu, `SandboxTemplate '${name}' limits.cpu`) < body.cpu) {
    throw new AgentboxError('invalid_argument', `cpu ${body.cpu} is more than SandboxTemplate '${name}' gives its sandboxes (limits.cpu ${limits.cpu}); ask for less or use a template with more (docs/kubernetes.md)`);
  }
  if (body.memoryMiB !== undefined && limits.memory !== undefined && parseMemoryMiB(limits.memory, `SandboxTemplate '${name}' limits.memory`) < body.memoryMiB) {
    throw new AgentboxError('invalid_argument', `memoryMiB ${body.memoryMiB} is more than SandboxTemplate '${name}' gives its sandboxes (limits.memory ${limits.memory}); ask for less or use a template with more (docs/kubernetes.md)`);
  }
}

export class ClusterSandboxes implements SandboxOps {
  private readonly guests = new KeyedPool<GuestClient>(512, (key) => {
    const a = JSON.parse(key) as GuestAddress;
    return createGuestClient({ url: a.url, accessToken: a.accessToken, headers: a.headers ?? {} });
  }, (c) => c.close());
  /** Claims this replica deleted and its cache still holds until the watch says so. */
  private readonly deleted = new Set<string>();

  constructor(private readonly d: ClusterSandboxesDeps) {
    d.claims.on((type, c) => { if (type === 'delete') this.deleted.delete(c.metadata.name!); });
  }

  close(): void {
    this.guests.close();
  }

  /** The claim of sandbox `id` if it belongs to `p`'s tenant (any tenant when `p` is null). */
  private claim(p: Principal | null, id: string): SandboxClaim {
    const c = this.deleted.has(id) ? undefined : this.d.claims.get(this.d.namespace, id);
    if (!c || (p && c.metadata.labels?.[CLUSTER_LABEL.tenant] !== p.tenantId)) throw notFound('sandbox', id);
    return c;
  }

  /** The guest's secrets of the Sandbox a claim is bound to, once the operator made them. */
  private guestOf(c: SandboxClaim): GuestSecret | undefined {
    const name = boundSandboxOf(c);
    const sb = name && this.d.sandboxes.get(this.d.namespace, name);
    const secret = name && this.d.guestSecrets.get(this.d.namespace, guestSecretNameOf(name));
    return sb && secret ? readGuestSecret(secret, sb) : undefined;
  }

  /** Whether the claim's Sandbox is suspended (a filesystem pause). */
  /** Whether the claim's Sandbox is Ready as of `generation` (its Ready condition observed it). */
  private sandboxReadyAt(c: SandboxClaim, generation: number): boolean {
    if (generation === 0) return true;
    const ready = findCondition(this.d.sandboxes.get(this.d.namespace, boundSandboxOf(c)!)?.status?.conditions, CONDITION.ready);
    return ready?.status === 'True' && (ready.observedGeneration ?? 0) >= generation;
  }

  private suspended(c: SandboxClaim): boolean {
    const name = boundSandboxOf(c);
    return !!name && this.d.sandboxes.get(this.d.namespace, name)?.spec.operatingMode === OPERATING_MODE.suspended;
  }

  private detail(c: SandboxClaim): SandboxDetail {
    return claimDetail(c, this.guestOf(c)?.accessToken, this.suspended(c));
  }

  /** The guest of a running sandbox, addressed through the router. */
  private address(c: SandboxClaim, port = GUEST_PORT): GuestAddress & { sandbox: string } {
    const sandbox = boundSandboxOf(c);
    const guest = this.guestOf(c);
    if (this.suspended(c)) throw new AgentboxError('conflict', `sandbox '${c.metadata.name}' is paused; connect or resume it first`);
    if (claimState(c) !== 'running' || !sandbox || !guest) {
      throw new AgentboxError('unavailable', `sandbox '${c.metadata.name}' is not running yet (its claim is not Ready); retry in a moment`);
    }
    return { sandbox, url: this.d.routes.url, accessToken: guest.accessToken, headers: this.d.routes.headers(sandbox, port) };
  }

  private guest(c: SandboxClaim): GuestClient {
    const { url, accessToken, headers } = this.address(c);
    return this.guests.get(JSON.stringify({ url, accessToken, headers }));
  }

  /** A warm pool of the template (the fullest), else agentbox's pool of 0 for it, made on first use. */
  private async poolFor(template: string): Promise<string> {
    const pools = (await this.d.client.list<SandboxWarmPool>(WARM_POOLS, this.d.namespace)).items
      .filter((x) => x.spec.sandboxTemplateRef?.name === template && !x.metadata.deletionTimestamp)
      .sort((a, b) => (b.spec.replicas ?? 0) - (a.spec.replicas ?? 0));
    if (pools[0]) return pools[0].metadata.name!;
    const name = `agentbox-${template}`;
    try {
      await this.d.client.create(WARM_POOLS, this.d.namespace, {
        metadata: { name, labels: { [CLUSTER_LABEL.coldPool]: 'true' } },
        spec: { replicas: 0, sandboxTemplateRef: { name: template } },
      } as SandboxWarmPool);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    return name;
  }

  private async checkTemplate(name: string, body: CreateSandboxBody): Promise<void> {
    const t = await this.d.client.getOrNull<SandboxTemplate>(TEMPLATES, this.d.namespace, name);
    if (!t) throw notFound('template', name);
    if (!t.spec.podTemplate.metadata?.annotations?.[ANNOTATION.injectGuest]) {
      throw new AgentboxError('invalid_argument', `SandboxTemplate '${name}' has no ${ANNOTATION.injectGuest} annotation on its pod template, so its pods have no agentbox guest to run commands in; add it (docs/kubernetes.md)`);
    }
    fitsTemplate(t, body);
  }

  async create(p: Principal, body: CreateSandboxBody): Promise<SandboxDetail> {
    refuseUnsupported(body);
    const volumes = this.d.volumes.claimVolumes(p, body.volumes ?? []);
    await this.checkTemplate(body.template, body);
    const pool = await this.poolFor(body.template);
    const id = newSandboxId();
    const timeoutSeconds = body.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const expiry = shutdownTimeAfter(this.d.now(), timeoutSeconds);
    const filesystemPause = body.onTimeout === 'pause_filesystem';
    const claim = await this.d.client.create<SandboxClaim>(CLAIMS, this.d.namespace, {
      metadata: {
        name: id,
        labels: { [CLUSTER_LABEL.tenant]: p.tenantId, [CLUSTER_LABEL.template]: body.template },
        annotations: {
          [CLUSTER_ANNOTATION.metadata]: JSON.stringify(body.metadata ?? {}), [CLUSTER_ANNOTATION.timeoutSeconds]: String(timeoutSeconds),
          ...(filesystemPause ? { [CLUSTER_ANNOTATION.onTimeout]: 'pause_filesystem', [CLUSTER_ANNOTATION.expiresAt]: expiry } : {}),
          // The operator mounts these PVCs in the claim's pod (k8s/extensions/claim-inputs.ts); a claim has no field for them.
          ...(volumes.length ? { [ANNOTATION.volumeMounts]: JSON.stringify(volumes) } : {}),
        },
      },
      spec: {
        warmPoolRef: { name: pool },
        ...(filesystemPause ? {} : { lifecycle: { shutdownTime: expiry, shutdownPolicy: SHUTDOWN_POLICY.delete } }),
      },
    } as SandboxClaim);
    this.d.claims.observe(claim);
    try {
      const ready = await this.untilGuestAnswers(id);
      if (body.env && Object.keys(body.env).length) await this.guest(ready).init(this.guestOf(ready)!.initSecret, { envVars: body.env });
      return this.detail(ready);
    } catch (err) {
      // Undo the half-made sandbox and report why it failed, not how the cleanup went.
      await this.d.client.delete(CLAIMS, this.d.namespace, id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Waits for the claim to be Ready, bound, its Sandbox running and its guest answering through
   * the router. After a resume, `sandboxGeneration` is the Sandbox's generation that set it
   * running: until the operator has reported on that generation, a Ready from before the pause
   * may still be in the caches, and the sandbox would be reported running before its new pod is.
   */
  private async untilGuestAnswers(id: string, sandboxGeneration = 0): Promise<SandboxClaim> {
    const timeoutMs = this.d.startTimeoutMs ?? 120_000;
    const ready = await this.d.changes.until(`sandbox '${id}' Ready with its guest`, () => {
      const c = this.d.claims.get(this.d.namespace, id);
      if (c && claimState(c) === 'failed') throw new AgentboxError('unavailable', `sandbox '${id}' failed to start: ${this.detail(c).error ?? 'its claim failed'}`);
      return c && !this.suspended(c) && claimState(c) === 'running' && this.guestOf(c) && this.sandboxReadyAt(c, sandboxGeneration) ? c : undefined;
    }, timeoutMs);
    await this.guest(ready).waitUntilReady({ timeoutMs });
    return ready;
  }

  list(p: Principal, f: ListFilter): Page<SandboxDetail> {
    const order = f.order === 'asc' ? 1 : -1;
    const rows = this.d.claims.list((c) => c.metadata.labels?.[CLUSTER_LABEL.tenant] === p.tenantId && !this.deleted.has(c.metadata.name!), this.d.namespace)
      .map((c) => this.detail(c))
      .filter((d) => (!f.states || f.states.includes(d.state)) && (!f.template || d.template === f.template)
        && (f.startedAfter === undefined || Date.parse(d.createdAt) >= f.startedAfter)
        && Object.entries(f.metadata ?? {}).every(([k, v]) => d.metadata[k] === v))
      .sort((a, b) => order * (a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)));
    const at = f.after ? rows.findIndex((d) => d.id === f.after) : -1;
    // The cursor is the last id of the previous page; once that sandbox is gone the page cannot be placed.
    if (f.after && at < 0) throw new AgentboxError('invalid_argument', `cursor '${f.after}' names no sandbox of yours any more; list again from the start`);
    const start = at + 1;
    const items = rows.slice(start, start + f.limit);
    const more = start + f.limit < rows.length;
    return more ? { items, next: items[items.length - 1]!.id } : { items };
  }

  /** The sandboxes, running or paused, whose claims mount PVC `claimName` (a volume's delete is refused while there are any). */
  mountedBy(claimName: string): string[] {
    return this.d.claims.list((c) => !this.deleted.has(c.metadata.name!) && !c.metadata.deletionTimestamp
      && claimVolumes(c).some((v) => v.claimName === claimName), this.d.namespace).map((c) => c.metadata.name!);
  }

  /** Sandboxes by state, for /metrics. */
  counts(): { state: string; n: number }[] {
    const n = new Map<string, number>();
    for (const c of this.d.claims.list((x) => !this.deleted.has(x.metadata.name!), this.d.namespace)) n.set(claimState(c), (n.get(claimState(c)) ?? 0) + 1);
    return [...n].map(([state, count]) => ({ state, n: count }));
  }

  /** The sandbox whose guest token satisfies `matches` (old E2B SDKs route by the token, signed file URLs by a digest of it). */
  idWhereGuestToken(matches: (token: string) => boolean): string | undefined {
    return this.d.claims.list((c) => {
      const token = this.guestOf(c)?.accessToken;
      return token !== undefined && matches(token);
    }, this.d.namespace)[0]?.metadata.name;
  }

  get(p: Principal, id: string): SandboxDetail {
    return this.detail(this.claim(p, id));
  }

  async kill(p: Principal, id: string): Promise<void> {
    const c = this.claim(p, id);
    try {
      await this.d.client.delete(CLAIMS, this.d.namespace, id, { preconditions: { uid: c.metadata.uid! } });
    } catch (e) {
      if (isNotFound(e)) throw notFound('sandbox', id);
      throw e;
    }
    this.deleted.add(id);
    const bound = boundSandboxOf(c);
    if (bound) this.d.routes.forget(bound);
  }

  async setTimeout(p: Principal, id: string, timeoutS: number): Promise<SandboxDetail> {
    return this.extend(this.claim(p, id), timeoutS, false);
  }

  /** Moves the claim's shutdownTime to `timeoutS` from now (`onlyLater`: never earlier than it was). */
  private async extend(c: SandboxClaim, timeoutS: number, onlyLater: boolean): Promise<SandboxDetail> {
    const at = shutdownTimeAfter(this.d.now(), timeoutS);
    const fs = pausesFilesystem(c);
    const current = fs ? c.metadata.annotations?.[CLUSTER_ANNOTATION.expiresAt] : c.spec.lifecycle?.shutdownTime;
    if (onlyLater && current && Date.parse(current) >= Date.parse(at)) return this.detail(c);
    // A paused sandbox's timer is stopped: only its timeout is kept, counted again from its resume.
    const paused = this.suspended(c);
    return this.patchClaim(c, {
      metadata: { annotations: { [CLUSTER_ANNOTATION.timeoutSeconds]: String(timeoutS), ...(fs && !paused ? { [CLUSTER_ANNOTATION.expiresAt]: at } : {}) } },
      ...(fs ? {} : { spec: { lifecycle: { shutdownTime: at, shutdownPolicy: SHUTDOWN_POLICY.delete } } }),
    });
  }

  private async patchClaim(c: SandboxClaim, patch: Record<string, unknown>): Promise<SandboxDetail> {
    const patched = await this.d.client.patch<SandboxClaim>(CLAIMS, this.d.namespace, c.metadata.name!, patch, 'merge');
    this.d.claims.observe(patched);
    return this.detail(patched);
  }

  /** Sets the bound Sandbox's operating mode; answers the Sandbox's generation that carries it. */
  private async setOperatingMode(c: SandboxClaim, mode: typeof OPERATING_MODE[keyof typeof OPERATING_MODE]): Promise<number> {
    const patched = await this.d.client.patch<Sandbox>(SANDBOXES, this.d.namespace, boundSandboxOf(c)!, { spec: { operatingMode: mode } }, 'merge');
    this.d.sandboxes.observe(patched);
    return patched.metadata.generation ?? 0;
  }

  /**
   * A filesystem pause (docs/kubernetes.md): the Sandbox is suspended, so its pod is deleted and
   * its volumes kept; memory and processes are lost. Only for sandboxes created with onTimeout
   * pause_filesystem, so nobody is surprised by what a pause keeps.
   */
  async pause(p: Principal, id: string, _opts?: PauseOptions): Promise<SandboxDetail> {
    const c = this.claim(p, id);
    if (!pausesFilesystem(c)) {
      throw notSupported('pause of this sandbox', 'memory pause on Kubernetes is the next issue; create the sandbox with onTimeout pause_filesystem (E2B: autoPause with autoPauseMemory false) for a filesystem pause');
    }
    if (this.suspended(c)) throw new AgentboxError('conflict', `sandbox '${id}' is already paused`);
    if (claimState(c) !== 'running') throw new AgentboxError('unavailable', `sandbox '${id}' is not running yet; retry in a moment`);
    return this.suspend(c);
  }

  private async suspend(c: SandboxClaim): Promise<SandboxDetail> {
    await this.setOperatingMode(c, OPERATING_MODE.suspended);
    return this.patchClaim(c, { metadata: { annotations: { [CLUSTER_ANNOTATION.expiresAt]: null } } });
  }

  /** Filesystem-pause sandboxes whose timeout passed are paused (every replica may do it: the patches are idempotent). */
  async pauseExpired(): Promise<void> {
    const now = this.d.now();
    const due = this.d.claims.list((c) => pausesFilesystem(c) && !this.deleted.has(c.metadata.name!) && claimState(c) === 'running' && !this.suspended(c)
      && Date.parse(c.metadata.annotations?.[CLUSTER_ANNOTATION.expiresAt] ?? '') <= now, this.d.namespace);
    await Promise.all(due.map((c) => this.suspend(c).catch(() => undefined)));
  }

  /** Brings a paused sandbox back: a new pod with the same volumes and guest secrets; its timer restarts at `timeoutS`. */
  private async wake(c: SandboxClaim, timeoutS: number): Promise<SandboxDetail> {
    await this.patchClaim(c, { metadata: { annotations: { [CLUSTER_ANNOTATION.timeoutSeconds]: String(timeoutS), [CLUSTER_ANNOTATION.expiresAt]: shutdownTimeAfter(this.d.now(), timeoutS) } } });
    const generation = await this.setOperatingMode(c, OPERATING_MODE.running);
    return this.detail(await this.untilGuestAnswers(c.metadata.name!, generation));
  }

  async resume(p: Principal, id: string): Promise<SandboxDetail> {
    const c = this.claim(p, id);
    if (!this.suspended(c)) throw new AgentboxError('conflict', `sandbox '${id}' is not paused`);
    return this.wake(c, Number(c.metadata.annotations?.[CLUSTER_ANNOTATION.timeoutSeconds] ?? DEFAULT_TIMEOUT_SECONDS));
  }

  async connect(p: Principal, id: string, timeoutS: number): Promise<{ detail: SandboxDetail; resumed: boolean }> {
    const c = this.claim(p, id);
    if (this.suspended(c)) return { detail: await this.wake(c, timeoutS), resumed: true };
    return { detail: await this.extend(c, timeoutS, true), resumed: false };
  }

  async fork(p: Principal, id: string): Promise<SandboxDetail> {
    this.refuseWithVolumes(this.claim(p, id));
    throw notSupported('fork', 'create a new sandbox from the template');
  }

  /** As on one machine (engine/snapshot-ops.ts): a copy of one instant would find the volume changed under its open files. */
  private refuseWithVolumes(c: SandboxClaim): void {
    const volumes = claimVolumes(c);
    if (volumes.length) throw conflict(`sandbox ${c.metadata.name} mounts volumes; a sandbox with volumes cannot be snapshotted or forked`, { volumes: volumes.map((v) => v.path) });
  }

  checkForkCount(): void {
    throw notSupported('fork', 'create a new sandbox from the template');
  }

  async exec(p: Principal, id: string, req: ExecRequest): Promise<ExecResult> {
    return this.guest(this.claim(p, id)).exec(req);
  }

  usage(): Promise<never> {
    return Promise.reject(notSupported('usage metrics', 'read the pod\'s metrics from the cluster (metrics-server)'));
  }

  logs(): AsyncIterable<Uint8Array> {
    throw notSupported('sandbox logs', 'read the pod\'s logs from the cluster (kubectl logs)');
  }

  setNetwork(): Promise<SandboxDetail> {
    return Promise.reject(notSupported('a per-sandbox network policy', 'set networkPolicy in the SandboxTemplate'));
  }

  makeTrafficPrivate(): string {
    throw notSupported('private sandbox ports', 'ports are reached through the sandbox router, which authorises every caller');
  }

  trafficToken(): undefined {
    return undefined;
  }

  readFile(p: Principal, id: string, path: string): Promise<FileDownload> {
    return this.d.files.read(this.address(this.claim(p, id)), path);
  }

  writeFile(p: Principal, id: string, path: string, data: FileContent): Promise<FileEntryView> {
    return this.d.files.write(this.address(this.claim(p, id)), path, data);
  }

  removeFile(p: Principal, id: string, path: string): Promise<void> {
    return this.d.files.remove(this.address(this.claim(p, id)), path);
  }

  listFiles(p: Principal, id: string, path: string, depth: number): Promise<FileEntryView[]> {
    return this.d.files.list(this.address(this.claim(p, id)), path, depth);
  }

  statFile(p: Principal, id: string, path: string): Promise<FileEntryView> {
    return this.d.files.stat(this.address(this.claim(p, id)), path);
  }

  watchFiles(p: Principal, id: string, path: string, onEvent: (e: WatchEventView) => void | Promise<void>, signal: AbortSignal): Promise<void> {
    return this.d.files.watch(this.address(this.claim(p, id)), path, onEvent, signal);
  }

  async snapshot(p: Principal, id: string): Promise<SnapshotDetail> {
    this.refuseWithVolumes(this.claim(p, id));
    throw notSupported('snapshots', 'keep state on a volume (volumeClaimTemplates)');
  }

  findSnapshot(): undefined {
    return undefined;
  }

  listSnapshots(): Page<SnapshotDetail> {
    return { items: [] };
  }

  deleteSnapshot(_p: Principal, ref: string): Promise<void> {
    return Promise.reject(notFound('snapshot', ref));
  }

  createFromSnapshot(): Promise<SandboxDetail> {
    return Promise.reject(notSupported('snapshots', 'keep state on a volume (volumeClaimTemplates)'));
  }

  /**
   * Every port goes through the router, which admits this server by its credential. The router
   * adds the guest's token on the guest port itself, so the guest's own check would pass for
   * anyone: anonymous traffic to the guest port (and a code-interpreter call that runs code) is
   * checked here against the sandbox's X-Access-Token instead.
   */
  async proxyTarget(p: Principal | null, id: string, port: number, opts: { needsAccessToken?: boolean; credentials?: { accessToken?: string } } = {}): Promise<ProxyTarget> {
    const a = this.address(this.claim(p, id), port);
    if (!p && (port === GUEST_PORT || opts.needsAccessToken) && !sameSecret(opts.credentials?.accessToken, a.accessToken)) {
      throw new AgentboxError('permission_denied', `port ${port} of sandbox '${id}' runs code: send the sandbox's X-Access-Token`);
    }
    // An API key's holder gets the guest's token added for the guest's own ports (envd, execd),
    // as on one machine (server/service.ts).
    return { url: a.url, headers: a.headers!, ...((port === GUEST_PORT || port === EXECD_PORT) && p ? { accessToken: a.accessToken } : {}) };
  }
}
