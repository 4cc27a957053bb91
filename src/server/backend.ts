/**
 * The one interface every API façade is handed (native `/v1`, E2B, and the coming OpenSandbox and
 * Kubernetes-backed ones): what a caller may do with sandboxes, snapshots, templates, pools,
 * limits, tenants and keys, in wire-neutral terms. A façade translates between its wire shapes
 * and these calls, nothing more; the backend owns every side effect (timers re-planned, proxied
 * connections dropped after a checkpoint), so no façade can forget one.
 */
import type {
  ApiKeyView, CreateSandboxBody, CreatedKeyView, FileEntryView, LimitsPatch, PolicyView, PoolSizing, PoolView, RuntimeName,
  TemplateBody, TemplateView, TenantLimitsView, TenantView, WatchEventView,
} from '../api/native.ts';
import type { EgressPolicy, ExecRequest, ExecResult, PauseOptions, SandboxUsage } from '../engine/types.ts';
import type { EventType, SandboxEventView } from '../api/events.ts';
import type { Principal } from './auth-store.ts';
import type { FileContent, FileDownload } from '../envd/files.ts';
import type { ListFilter, OnTimeoutAction, RecordState } from './sandbox-store.ts';
import type { SnapshotFilter } from './snapshot-store.ts';
import type { EventQuery } from './events/event-log.ts';
import type { VolumeOps } from './volumes/volume-service.ts';

export type { VolumeOps };
export type { EventQuery, EgressPolicy, ExecRequest, ExecResult, FileContent, FileDownload, ListFilter, OnTimeoutAction, PauseOptions, Principal, SandboxUsage, SnapshotFilter };

export { GUEST_PORT } from '../api/envd-protocol.ts';

/** A sandbox as façades see it: times in ISO 8601, the engine's facts when it knows the sandbox. */
export interface SandboxDetail {
  id: string;
  template: string;
  runtime: RuntimeName;
  state: RecordState;
  metadata: Record<string, string>;
  createdAt: string;
  /** When the timeout acts; absent while paused (the timer stops) or never set. */
  expiresAt?: string;
  timeoutSeconds: number;
  onTimeout: OnTimeoutAction;
  autoResume: boolean;
  cpu: number;
  memoryMiB: number;
  fromPool: boolean;
  /** Why the sandbox failed. */
  error?: string;
  /** The guest daemon's version and access token; absent while the engine does not know the sandbox (so are the fields below). */
  guest?: { envdVersion: string; accessToken: string };
  /** Size of the sandbox's disk. */
  diskMiB?: number;
  /** What the sandbox's files take of its disk; absent while the disk is not mounted. */
  disk?: { usedBytes: number; limitBytes: number };
  egress?: EgressPolicy;
  /** Set while paused. */
  pausedAt?: string;
  /** The volumes it mounts, by name (absent while the engine does not know the sandbox). */
  volumeMounts?: { name: string; path: string }[];
}

export interface SnapshotDetail {
  /** What a create takes to start from the snapshot (a name works too). */
  id: string;
  name?: string;
  sandboxId: string;
  template: string;
  createdAt: string;
}

export interface Page<T> { items: T[]; next?: string }

export interface ProxyTarget {
  /** Base URL of the port inside the sandbox, as reachable from the host. */
  url: string;
  /** The guest's token, set when the port is the guest daemon's. */
  accessToken?: string;
  /** Headers set on the forwarded request (over the client's): a router's addressing and token. */
  headers?: Record<string, string>;
}

/** What an anonymous request to a sandbox port presents (headers of the E2B protocol). */
export interface TrafficCredentials {
  /** X-Access-Token: the guest's (envd) access token. */
  accessToken?: string;
  /** e2b-traffic-access-token: the sandbox's traffic token, when its ports are private. */
  trafficToken?: string;
}

/** How the gateway describes an anonymous request to proxyTarget. */
export interface AnonymousTraffic {
  /** The E2B façade: the guest port is reachable, the guest checks its own token. */
  guestByToken?: boolean;
  credentials?: TrafficCredentials;
  /** The request runs code (gateway/traffic-rules.ts): it needs the guest's token. */
  needsAccessToken?: boolean;
}

export interface SandboxOps {
  create(p: Principal, body: CreateSandboxBody): Promise<SandboxDetail>;
  list(p: Principal, f: ListFilter): Page<SandboxDetail>;
  get(p: Principal, id: string): SandboxDetail;
  kill(p: Principal, id: string): Promise<void>;
  /**
   * Restarts the timer at `timeoutS` from now (a paused sandbox: from its resume). May answer a
   * promise (here and in AccountOps): a cluster-backed backend writes the API server first.
   */
  setTimeout(p: Principal, id: string, timeoutS: number): SandboxDetail | Promise<SandboxDetail>;
  pause(p: Principal, id: string, opts?: PauseOptions): Promise<SandboxDetail>;
  resume(p: Principal, id: string): Promise<SandboxDetail>;
  /** Resumes a paused sandbox and extends (never shortens) its timer to `timeoutS` from now. */
  connect(p: Principal, id: string, timeoutS: number, opts?: PauseOptions): Promise<{ detail: SandboxDetail; resumed: boolean }>;
  fork(p: Principal, id: string, opts: { metadata?: Record<string, string>; timeoutSeconds?: number }): Promise<SandboxDetail>;
  /** Refuses a call asking for more copies than the caller's forksPerCall. */
  checkForkCount(p: Principal, count: number): void;
  exec(p: Principal, id: string, req: ExecRequest): Promise<ExecResult>;
  usage(p: Principal, id: string): Promise<SandboxUsage>;
  /** The sandbox's console (guest log, start command output); `follow` keeps reading until it ends or `signal` aborts. */
  logs(p: Principal, id: string, opts: { follow: boolean; signal: AbortSignal }): AsyncIterable<Uint8Array>;
  setNetwork(p: Principal, id: string, policy: EgressPolicy): Promise<SandboxDetail>;
  /** Makes the sandbox's ports private to anonymous traffic; returns the token it must carry. */
  makeTrafficPrivate(p: Principal, id: string): string;
  /** The sandbox's traffic token, or undefined when its ports are public. */
  trafficToken(p: Principal, id: string): string | undefined;
  readFile(p: Principal, id: string, path: string): Promise<FileDownload>;
  writeFile(p: Principal, id: string, path: string, data: FileContent): Promise<FileEntryView>;
  removeFile(p: Principal, id: string, path: string): Promise<void>;
  listFiles(p: Principal, id: string, path: string, depth: number): Promise<FileEntryView[]>;
  statFile(p: Principal, id: string, path: string): Promise<FileEntryView>;
  watchFiles(p: Principal, id: string, path: string, onEvent: (e: WatchEventView) => void | Promise<void>, signal: AbortSignal): Promise<void>;
  /** Checkpoints a running sandbox (it keeps running) into a snapshot the caller owns. */
  snapshot(p: Principal, id: string, name?: string): Promise<SnapshotDetail>;
  findSnapshot(p: Principal, ref: string): SnapshotDetail | undefined;
  listSnapshots(p: Principal, f: SnapshotFilter): Page<SnapshotDetail>;
  deleteSnapshot(p: Principal, ref: string): Promise<void>;
  createFromSnapshot(p: Principal, ref: string, body: Omit<CreateSandboxBody, 'template' | 'cpu' | 'memoryMiB' | 'diskMiB' | 'network' | 'runtime'>): Promise<SandboxDetail>;
  /**
   * Where traffic for a port of a sandbox goes; `p` is null for anonymous traffic, admitted by
   * the tokens `opts` describes. A paused sandbox created with autoResume is resumed.
   */
  proxyTarget(p: Principal | null, id: string, port: number, opts?: AnonymousTraffic): Promise<ProxyTarget>;
}

export interface TemplateOps {
  list(p: Principal): TemplateView[];
  /**
   * Builds a recipe. A template that lets its start command (or its ready check alone) be
   * snapshotted ends its build as E2B's do (E2B builds always let it): the command and check run
   * once, for the runtime the caller's creates get (in a sandbox booted for it, which becomes the
   * golden snapshot where its creates restore one), and only a build that passes replaces the
   * template; one that fails leaves the previous build serving.
   */
  build(p: Principal, recipe: TemplateBody, onProgress?: (line: string) => void): Promise<TemplateView>;
  buildFromUpload(p: Principal, name: string, archive: AsyncIterable<Uint8Array>, opts?: { ref?: string; description?: string }): Promise<TemplateView>;
}

/** Warm pools of the caller's tenant; `get`, `delete` throw not_found for an unknown pool. */
export interface PoolOps {
  list(p: Principal): PoolView[];
  /** A promise where the pool is read from elsewhere (the Kubernetes backend reads a Pool). */
  get(p: Principal, template: string): PoolView | Promise<PoolView>;
  /** Sized by `size` (that many idle) or by OpenSandbox's capacity (api/pool-capacity.ts). */
  set(p: Principal, template: string, sizing: PoolSizing, runtime?: RuntimeName): Promise<PoolView>;
  delete(p: Principal, template: string): void;
}

/** Limits and the server policy; a tenant is named by name or id (not_found when unknown). */
export interface LimitOps {
  mine(p: Principal): TenantLimitsView;
  policy(): PolicyView;
  setDefaults(defaults: LimitsPatch): PolicyView;
  ofTenant(tenant: string): TenantLimitsView;
  setTenant(tenant: string, patch: LimitsPatch): TenantLimitsView;
  clearTenant(tenant: string): void;
}

export interface AccountOps {
  listTenants(): TenantView[];
  createTenant(name: string): TenantView | Promise<TenantView>;
  listKeys(): ApiKeyView[];
  createKey(opts: { tenant: string; name?: string; admin?: boolean }): CreatedKeyView | Promise<CreatedKeyView>;
  revokeKey(id: string): void | Promise<void>;
}

/** A webhook as façades show it: never its secret. */
export interface WebhookDetail {
  id: string;
  tenantId: string;
  name: string;
  url: string;
  events: EventType[];
  enabled: boolean;
  createdAt: string;
}

export interface WebhookInput {
  name?: string;
  url: string;
  events: EventType[];
  signatureSecret: string;
  enabled: boolean;
}

/** Lifecycle events of the caller's sandboxes, and its webhooks (issue 15). */
export interface EventOps {
  list(p: Principal, q: EventQuery): SandboxEventView[];
  /** Calls `onEvent` with each new event the caller may see that matches; returns the unsubscribe. */
  subscribe(p: Principal, q: Pick<EventQuery, 'sandboxId' | 'types'>, onEvent: (e: SandboxEventView) => void): () => void;
  createWebhook(p: Principal, w: WebhookInput): WebhookDetail;
  listWebhooks(p: Principal): WebhookDetail[];
  getWebhook(p: Principal, id: string): WebhookDetail;
  updateWebhook(p: Principal, id: string, patch: Partial<WebhookInput>): WebhookDetail;
  deleteWebhook(p: Principal, id: string): void;
}

export interface SandboxBackend {
  /** The principal an API key acts for; unauthenticated when the key is unknown or revoked. */
  authenticate(key: string): Principal;
  readonly sandboxes: SandboxOps;
  readonly templates: TemplateOps;
  readonly pools: PoolOps;
  /** Volumes of the caller's tenant (server/volumes/); not_supported on a cluster. */
  readonly volumes: VolumeOps;
  readonly limits: LimitOps;
  readonly accounts: AccountOps;
  readonly events: EventOps;
}
