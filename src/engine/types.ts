/**
 * The in-process API of the single-node engine. The server's sandbox service (src/server/) is
 * its client: it calls `Engine` and reads the types below, while the gateway's façades reach
 * sandboxes only through that service. `RuntimeDriver` (runtime/driver.ts) is the lower layer
 * that knows one OCI runtime binary (runsc or runc).
 *
 * Every method throws AgentboxError (src/api/errors.ts) with a machine-readable code.
 */
import type { ExecRequest, ExecResult } from '../envd/client.ts';
import type { TemplateInfo } from './images/template-store.ts';

/** The runtime classes (runtime/classes.ts), most preferred first. */
export const RUNTIME_CLASS_NAMES = ['gvisor', 'runc'] as const;
export type RuntimeClassName = (typeof RUNTIME_CLASS_NAMES)[number];

/**
 * creating → running ⇄ paused → killed; failed when start or restore failed.
 * `killed` sandboxes are forgotten by the engine once their files are removed.
 */
export type SandboxState = 'creating' | 'running' | 'paused' | 'killed' | 'failed';

/**
 * How `pause` works for a sandbox's runtime class:
 * - `checkpoint`: memory and processes are written to disk and the sandbox is stopped (gvisor);
 *   a paused sandbox holds no memory.
 * - `freeze`: the cgroup is frozen; memory stays resident (runc: Debian's CRIU 3.17 cannot
 *   checkpoint on this kernel, see runtime/runc.ts).
 * Each mode is a pause strategy (pause/checkpoint.ts, pause/freeze.ts); a runtime class
 * declares its mode (runtime/runtime-class.ts).
 */
export type PauseMode = 'checkpoint' | 'freeze';

export interface ResourceLimits {
  /** CPU cores (fractions allowed), enforced by CFS quota. */
  cpu: number;
  memoryMiB: number;
  /**
   * Maximum number of tasks (processes + threads) inside the sandbox, the guest daemon's own
   * (about 15) included, on every runtime class.
   */
  pids: number;
}

/** ResourceLimits plus what only a sandbox (not a template build) has. */
export interface SandboxLimits extends ResourceLimits {
  /**
   * Size of the sandbox's disk (its writable layer), MiB. Enforced by the kernel: a sandbox
   * that fills it gets ENOSPC inside; the host keeps working.
   */
  diskMiB: number;
}

/** A sandbox disk's use: `usedBytes` of the `limitBytes` its filesystem can hold. */
export interface DiskUsage {
  usedBytes: number;
  limitBytes: number;
}

/**
 * Egress policy, enforced on the host in nftables beneath the operator's floor (the host,
 * other sandboxes, metadata, private ranges: network/floor.ts), which no entry opens. An
 * entry is a CIDR, an IP, or a domain name (`example.com`, `*.example.com`), resolved
 * through the sandbox's DNS proxy. Allow beats deny; `defaultAction` decides everything that neither list names.
 */
export interface EgressPolicy {
  defaultAction: 'allow' | 'deny';
  allow: string[];
  deny: string[];
}

/** A volume (volumes/disks.ts) mounted read-write at `path` inside a sandbox (../api/volume-mount-path.ts). */
export interface VolumeMount {
  volumeId: string;
  path: string;
}

export interface CreateSandboxRequest {
  /** Name of a built template (see TemplateStore). */
  template: string;
  /** Defaults to a fresh id of 20 chars [a-z0-9]. Also the sandbox's hostname. */
  id?: string;
  runtime?: RuntimeClassName;
  /** Missing fields come from the template, then from engine defaults. */
  limits?: Partial<SandboxLimits>;
  /** Sandbox-wide environment for the start command and every process the guest starts. */
  env?: Record<string, string>;
  egress?: EgressPolicy;
  /** The guest's X-Access-Token. Minted when absent. */
  accessToken?: string;
  /** Volumes to mount (gVisor only); a sandbox with volumes cannot be snapshotted or forked. */
  volumes?: VolumeMount[];
}

export interface GuestEndpoint {
  /** Base URL of the guest daemon (envd protocol) as reachable from the host, e.g. http://10.88.0.6:49983 */
  url: string;
  accessToken: string;
  /** envd protocol level the guest implements (semver). */
  envdVersion: string;
}

export interface SandboxInfo {
  id: string;
  hostname: string;
  template: string;
  runtime: RuntimeClassName;
  state: SandboxState;
  pauseMode: PauseMode;
  createdAt: string;
  /** Set while paused. */
  pausedAt?: string;
  /** Set while paused: whether memory and processes were kept (false = filesystem only). */
  pausedWithMemory?: boolean;
  limits: SandboxLimits;
  /** Use of the sandbox's disk; absent while it is not mounted (a failed sandbox). */
  disk?: DiskUsage;
  env: Record<string, string>;
  egress: EgressPolicy;
  /** The sandbox's address on its host link; any port inside is reachable here from the host only. */
  address: string;
  guest: GuestEndpoint;
  /** Set when the sandbox was forked or restored from a snapshot. */
  fromSnapshot?: string;
  volumes: VolumeMount[];
  /** Why the sandbox is `failed`. */
  error?: string;
}

export interface SandboxUsage {
  /** Host PID of the sandbox's init (runc) or sentry (gvisor); absent when not running. */
  pid?: number;
  /** Memory charged to the sandbox's cgroup, bytes. */
  memoryBytes: number;
  /** CPU time consumed since start, nanoseconds. */
  cpuNanos: number;
  pids: number;
  /** Use of the sandbox's disk (its writable layer); absent while it is not mounted. */
  disk?: DiskUsage;
}

/** The exec contract is the guest client's (src/envd/client.ts); the engine passes it through. */
export type { ExecRequest, ExecResult };

export interface SnapshotInfo {
  id: string;
  /** Sandbox the snapshot was taken from. */
  sandboxId: string;
  template: string;
  runtime: RuntimeClassName;
  createdAt: string;
}

export interface PauseOptions {
  /** Keep memory and processes (default true). */
  memory?: boolean;
}

export interface ForkRequest {
  id?: string;
  accessToken?: string;
  env?: Record<string, string>;
}

export interface Engine {
  /** Prepares bundle, filesystem and network; the sandbox is `creating` until `start`. */
  create(req: CreateSandboxRequest): Promise<SandboxInfo>;
  /** Starts a created sandbox and waits until its guest answers. */
  start(id: string): Promise<SandboxInfo>;
  /** create + start; undoes everything it made when a step fails. */
  run(req: CreateSandboxRequest): Promise<SandboxInfo>;
  /**
   * Makes the golden snapshot that creates of `template` with its own limits restore (its start
   * command and ready check pass in it, when the template allows that): false when there was one
   * already or such creates boot; throws what the snapshot's sandbox failed with.
   */
  prepareGolden(template: string, runtime?: RuntimeClassName): Promise<boolean>;
  /**
   * Runs a template build's start command and ready check once, as E2B ends a template build,
   * in a sandbox booted for the check: it becomes the golden snapshot where its creates restore
   * one (as prepareGolden's), else it is removed. The build need not be stored yet (a check
   * before it replaces the template). True when a golden snapshot was made; throws what the
   * start command or its check failed with, and nothing else.
   */
  startOnce(template: TemplateInfo, runtime?: RuntimeClassName): Promise<boolean>;
  get(id: string): SandboxInfo;
  list(): SandboxInfo[];
  exec(id: string, req: ExecRequest): Promise<ExecResult>;
  /**
   * Pauses a running sandbox. By default memory and processes are kept (checkpoint, or freeze
   * for runc). `{memory: false}` keeps only the filesystem: the sandbox is stopped, holds no
   * memory on any runtime class, and `resume` boots it again from its writable layer.
   */
  pause(id: string, opts?: PauseOptions): Promise<SandboxInfo>;
  /**
   * Resumes a paused sandbox. `{memory: false}` discards kept memory and processes and boots it
   * again from its files (E2B's "reboot" resume).
   */
  resume(id: string, opts?: PauseOptions): Promise<SandboxInfo>;
  /** Checkpoints a running sandbox (it keeps running) into a named snapshot. */
  snapshot(id: string): Promise<SnapshotInfo>;
  listSnapshots(): SnapshotInfo[];
  deleteSnapshot(snapshotId: string): Promise<void>;
  /** Restores a snapshot as a new sandbox with a new id and hostname. */
  restoreSnapshot(snapshotId: string, req?: ForkRequest): Promise<SandboxInfo>;
  /** snapshot + restoreSnapshot: a running copy of a running sandbox. */
  fork(id: string, req?: ForkRequest): Promise<SandboxInfo>;
  setEgress(id: string, policy: EgressPolicy): Promise<SandboxInfo>;
  /** Makes a volume of `sizeMiB` (a disk image of its own, volumes/disks.ts). */
  createVolume(id: string, sizeMiB: number): Promise<void>;
  /** Deletes a volume and its files; conflict while a sandbox (running or paused) mounts it. */
  deleteVolume(id: string): Promise<void>;
  /** The host directory holding a volume's files (for the content API). */
  volumeDir(id: string): string;
  /**
   * Merges `env` into the sandbox-wide environment of a running sandbox: every process the
   * guest starts from now on sees it (a warm-pool claim applies the caller's env this way).
   * Persisted, so it survives pause, resume and restarts.
   */
  setEnv(id: string, env: Record<string, string>): Promise<SandboxInfo>;
  inspect(id: string): Promise<SandboxUsage>;
  /**
   * The file the runtime writes the sandbox's console to: the guest daemon's log (JSON lines),
   * its start command's output among them. Absent until the sandbox first starts.
   */
  logPath(id: string): string;
  /** Stops the sandbox and removes all its files. Idempotent for unknown ids: throws not_found. */
  destroy(id: string): Promise<void>;
  close(): Promise<void>;
}
