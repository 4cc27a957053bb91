/**
 * The single-node engine: sandboxes as gVisor (or runc) containers on this machine, each with
 * an overlay root filesystem, its own network namespace and egress rules, and the guest daemon
 * as PID 1. State lives on disk per sandbox (sandbox-record.ts); every operation writes the
 * record before and after its side effects so `recover()` can finish or undo it after a crash.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError, asAgentboxError, conflict, invalidArgument, notFound } from '../api/errors.ts';
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { createGuestClient, type GuestClient } from '../envd/client.ts';
import { sandboxPaths, writeBundle, type GuestBundleRef, type SandboxPaths } from './bundle.ts';
import { copyTree, ensurePrivateDir, writeFileAtomic } from './fsutil.ts';
import { attachDisk, detachDisk, diskUsage, removeDisk, sweepOrphanLoops, type DiskImage } from './images/disk.ts';
import { isMounted, unmount } from './images/overlay.ts';
import type { TemplateStore } from './images/template-store.ts';
import { freeSlot, linkAddresses, type LinkAddresses } from './network/addresses.ts';
import { DnsProxy } from './network/dns-proxy.ts';
import { EgressFirewall, validateEgressPolicy, DEFAULT_EGRESS } from './network/egress.ts';
import { addressForBoot, createNetns, deleteNetns, enableForwarding, netnsExists, openUplinks } from './network/netns.ts';
import { cgroupUsage, oomKills, pidsLimitHits } from './runtime/cgroups.ts';
import { CHECKPOINT_TIMEOUT_MS, type RuntimeDriver } from './runtime/driver.ts';
import { MAX_PIDS } from './runtime/oci-spec.ts';
import { capAllSandboxes } from './runtime/pids-ceiling.ts';
import { removeUsernsRootfs } from './runtime/userns.ts';
import { RecordStore, type SandboxRecord } from './sandbox-record.ts';
import { hashImageFiles, verifySnapshot, writeManifest, MANIFEST, type SnapshotManifest } from './snapshots.ts';
import type {
  CreateSandboxRequest, EgressPolicy, Engine, ExecRequest, ExecResult, ForkRequest, PauseOptions, RuntimeClassName,
  SandboxInfo, SandboxLimits, SandboxState, SandboxUsage, SnapshotInfo,
} from './types.ts';

export interface NetworkOptions {
  subnet: string;
  ifacePrefix: string;
  table: string;
  dnsPort: number;
  dnsUpstream: string;
  nat: boolean;
  /** Egress floor entries the operator lifts (src/engine/network/floor.ts); tenants cannot. */
  allowPrivate?: string[];
}

/** Sizes of sandbox disks (images/disk.ts), MiB. */
export interface DiskOptions {
  /** When neither the create request nor the template says; default 10 GiB. */
  defaultMiB: number;
  /** The most a create request or template may ask for; default 100 GiB. */
  maxMiB: number;
}

export const DEFAULT_DISK: DiskOptions = { defaultMiB: 10_240, maxMiB: 102_400 };
/** Below this ext4's journal and the guest's own files leave too little room. */
const MIN_DISK_MIB = 32;
/**
 * A checkpoint holds the sandbox's memory (bounded by its memory limit) plus the sentry's
 * state; its image gets this much on top of the memory limit.
 */
const CHECKPOINT_EXTRA_MIB = 256;

export interface LocalEngineOptions {
  home: string;
  drivers: Map<RuntimeClassName, RuntimeDriver>;
  defaultRuntime: RuntimeClassName;
  templates: TemplateStore;
  guest: GuestBundleRef & { envdVersion: string };
  network: NetworkOptions;
  disk?: Partial<DiskOptions>;
  /** How long a cold start may take until the guest answers. */
  readyTimeoutMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_RE = /^[a-z0-9]{20}$/;

/** 20 chars of [a-z0-9]: E2B's id shape, safe in host names (`<port>-<id>.<domain>`). */
export function newSandboxId(): string {
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

const newSecret = () => randomBytes(24).toString('hex');

/** What a snapshot keeps of its source sandbox besides memory and files (engine-private). */
type SnapshotSandbox = Pick<SandboxRecord, 'limits' | 'env' | 'egress' | 'imageConfig' | 'accessToken' | 'initSecret'>;
const IMAGES = 'images';
const LIVENESS_INTERVAL_MS = 1000;
/** The guest daemon, tini and the launchers take ~15 tasks; leave room for real work. */
const MIN_PIDS = 32;

export class LocalEngine implements Engine {
  private readonly records = new Map<string, SandboxRecord>();
  private readonly guests = new Map<string, GuestClient>();
  /** Per-sandbox operation chain: pause/resume/destroy/fork of one sandbox never interleave. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly store: RecordStore;
  private readonly snapshotsDir: string;
  private readonly firewall: EgressFirewall;
  private readonly dns: DnsProxy;
  private readonly readyTimeoutMs: number;
  private readonly diskSizes: DiskOptions;
  /** Host PID of each running sandbox (sentry or init), watched by the liveness monitor. */
  private readonly pids = new Map<string, number>();
  private monitor?: NodeJS.Timeout;
  private nextSlot = 0;
  /** Sandboxes whose namespace was created (addressed) by this process and not booted since. */
  private readonly addressed = new Set<string>();

  constructor(private readonly opts: LocalEngineOptions) {
    this.store = new RecordStore(join(opts.home, 'sandboxes'));
    this.snapshotsDir = join(opts.home, 'snapshots');
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
    this.diskSizes = { ...DEFAULT_DISK, ...opts.disk };
    const n = opts.network;
    this.firewall = new EgressFirewall({ table: n.table, subnet: n.subnet, ifacePrefix: n.ifacePrefix, dnsPort: n.dnsPort, nat: n.nat, allowPrivate: n.allowPrivate ?? [] });
    this.dns = new DnsProxy({
      port: n.dnsPort,
      upstream: n.dnsUpstream,
      lookup: (ip) => this.dnsTarget(ip),
      onError: (err) => this.log('dns proxy error', { err: String(err) }),
    });
  }

  private log(msg: string, fields?: Record<string, unknown>): void {
    this.opts.log?.(msg, fields);
  }

  // ---------------------------------------------------------------- start-up & recovery

  /** Sets up host networking and re-adopts every sandbox found on disk. */
  async init(): Promise<void> {
    // 0700: upper dirs and checkpoints hold the sandboxes' files (setuid binaries included).
    await ensurePrivateDir(this.opts.home);
    await ensurePrivateDir(this.store.root);
    await ensurePrivateDir(this.snapshotsDir);
    await capAllSandboxes();
    await this.firewall.init(this.opts.network.nat ? await openUplinks() : []);
    await this.dns.start();
    await this.recover();
    const swept = await sweepOrphanLoops(this.store.root, (id) => this.records.has(id));
    if (swept > 0) this.log('released loop devices of removed sandboxes', { count: swept });
    this.monitor = setInterval(() => void this.checkLiveness(), LIVENESS_INTERVAL_MS);
    this.monitor.unref();
  }

  /**
   * A sandbox can stop on its own: under gVisor the sandbox is the unit the host OOM killer
   * stops. Its guest connections would then hang until TCP gives up, so the monitor notices
   * the missing process, marks the sandbox failed (saying why) and fails in-flight calls.
   */
  private async checkLiveness(): Promise<void> {
    for (const [id, pid] of this.pids) {
      if (isAlive(pid)) continue;
      const r = this.records.get(id);
      if (!r || r.state !== 'running') {
        this.pids.delete(id);
        continue;
      }
      await this.serialized(id, async () => {
        if (!this.pids.has(id)) return;
        const status = await this.driver(r.runtime).status(id);
        if (status?.status === 'running' && status.pid !== pid) return void this.pids.set(id, status.pid);
        this.pids.delete(id);
        const oom = (await oomKills(id)) > 0;
        const pidsHit = !oom && (await pidsLimitHits(id)) > 0;
        await this.markFailed(r, oom
          ? `the sandbox ran out of memory (limit ${r.limits.memoryMiB} MiB) and was stopped; create it with a larger memoryMiB`
          : pidsHit ? `the sandbox exceeded the host's task limit for it (pids ${r.limits.pids}) and was stopped`
          : `the sandbox stopped unexpectedly; see ${this.paths(id).log}`);
      }).catch((err) => this.log('liveness check failed', { id, err: String(err) }));
    }
  }

  /** Records the host PID of a sandbox that has just started or been restored. */
  private async watch(r: SandboxRecord): Promise<void> {
    const status = await this.driver(r.runtime).status(r.id);
    if (status?.pid) this.pids.set(r.id, status.pid);
  }

  /**
   * Finishes or undoes whatever a crash interrupted: half-created and half-destroyed sandboxes
   * are removed; running ones are re-adopted (or marked failed if their runtime is gone);
   * pause and resume are completed or rolled back by what is on disk.
   */
  private async recover(): Promise<void> {
    for (const { id, record } of this.store.scan()) {
      if (!record || record.state === 'creating' || record.state === 'destroying') {
        this.log('removing unfinished sandbox', { id, state: record?.state });
        await this.teardown(id, record);
        continue;
      }
      this.records.set(id, record);
      try {
        await this.adopt(record);
      } catch (err) {
        await this.markFailed(record, `recovery failed: ${asAgentboxError(err).message}`);
      }
    }
  }

  /**
   * Re-attaches the sandbox's disks (a host reboot unmounted them; after a server crash they
   * are still mounted and this is a no-op), then settles its state. A checkpoint image is kept
   * only while the sandbox stays paused.
   */
  private async adopt(r: SandboxRecord): Promise<void> {
    if (r.state === 'failed') return;
    await attachDisk(this.disk(r), { create: false });
    if (existsSync(this.paths(r.id).checkpointImage)) await attachDisk(this.checkpointDisk(r), { create: false });
    await this.settle(r);
    // init re-created the firewall table: every sandbox that kept its link gets its rules back,
    // whichever way an interrupted pause or resume settled (a paused one needs them to resume).
    if ((r.state === 'running' || r.state === 'paused') && netnsExists(r.id)) await this.ensureNetwork(r);
    if (r.state !== 'paused') await removeDisk(this.checkpointDisk(r));
  }

  private async settle(r: SandboxRecord): Promise<void> {
    const driver = this.driver(r.runtime);
    const paths = this.paths(r.id);
    // A checkpoint outlives the server that started it: until it ends, the sandbox it is about
    // to stop still looks alive. Decide only once nothing writes the images any more.
    const images = r.state === 'pausing' ? join(paths.checkpoint, IMAGES) : r.state === 'snapshotting' ? join(r.snapshotDir!, IMAGES) : undefined;
    if (images) await untilNoWriters(images);
    const status = await driver.status(r.id);
    const manifestReady = existsSync(join(paths.checkpoint, MANIFEST));
    switch (r.state) {
      case 'pausing':
        // The checkpoint finished (manifest written last) or it did not: settle on one.
        if (manifestReady) {
          await driver.delete(r.id);
          return this.setState(r, 'paused');
        }
        // runsc's state file still says running after a checkpoint stopped the sandbox: ask the kernel.
        if (status && (status.status === 'running' || status.status === 'paused') && isAlive(status.pid)) {
          this.pids.set(r.id, status.pid);
          return this.setState(r, 'running');
        }
        // The checkpoint finished after the server died: the sandbox is gone and its images are
        // complete (runsc stops a sandbox only after a successful save). Seal them with the
        // manifest the server never wrote, instead of losing the sandbox.
        if (hasImages(images!)) {
          await this.writeSnapshotManifest(paths.checkpoint, `pause-${r.id}`, r);
          await driver.delete(r.id);
          return this.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: true });
        }
        return this.markFailed(r, 'the server stopped during pause and the sandbox did not survive');
      case 'resuming':
        if (status?.status === 'running' && isAlive(status.pid)) {
          this.pids.set(r.id, status.pid);
          return this.setState(r, 'running');
        }
        await driver.delete(r.id);
        if (manifestReady) return this.setState(r, 'paused');
        return this.markFailed(r, 'the server stopped during resume and the checkpoint is incomplete');
      case 'snapshotting': {
        const snap = r.snapshotDir!;
        const sealed = existsSync(join(snap, MANIFEST));
        if (status?.status === 'running' && isAlive(status.pid)) this.pids.set(r.id, status.pid);
        else if (sealed || hasImages(images!)) {
          // Stopped by the snapshot's checkpoint: it continues from the images written, over
          // its own writable layer, which nothing touched since. Its rules come first.
          await this.ensureNetwork(r);
          await this.continueFrom(r, join(snap, IMAGES));
        } else return this.markFailed(r, 'the server stopped during a snapshot and the sandbox did not survive');
        // Nobody was told this snapshot's id (the call never returned): it is not kept.
        await rm(snap, { recursive: true, force: true });
        return this.setState(r, 'running', { snapshotDir: undefined });
      }
      case 'created':
        // Never started: nothing runs yet, the bundle on disk is all there is.
        await this.ensureNetwork(r);
        return;
      case 'running':
        if (status === undefined || status.status === 'stopped') {
          return this.markFailed(r, 'the sandbox stopped while the server was down (host reboot or out of memory)');
        }
        // A stale state file (the sentry died) is caught by the liveness monitor within a second.
        if (status.status === 'running') this.pids.set(r.id, status.pid);
        return;
      case 'paused':
        return; // resume() rebuilds whatever a reboot removed
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- helpers

  private driver(name: RuntimeClassName): RuntimeDriver {
    const d = this.opts.drivers.get(name);
    if (!d) {
      throw new AgentboxError('not_supported', `runtime class '${name}' is not available on this host; available: ${[...this.opts.drivers.keys()].join(', ') || 'none'}. Run 'agentbox doctor'.`);
    }
    return d;
  }

  private paths(id: string, runtime = this.records.get(id)?.runtime): SandboxPaths {
    return sandboxPaths(this.store.dir(id), runtime);
  }

  /** The image that holds the sandbox's writable layer. */
  private disk(r: Pick<SandboxRecord, 'id' | 'limits'>): DiskImage {
    const p = this.paths(r.id);
    return { file: p.diskImage, mount: p.disk, sizeMiB: r.limits.diskMiB };
  }

  /** The image that holds a paused sandbox's checkpoint: sized by its memory limit. */
  private checkpointDisk(r: Pick<SandboxRecord, 'id' | 'limits'>): DiskImage {
    const p = this.paths(r.id);
    return { file: p.checkpointImage, mount: p.checkpoint, sizeMiB: r.limits.memoryMiB + CHECKPOINT_EXTRA_MIB };
  }

  /** Mounts the disk and root filesystem and writes the bundle (first boot, or after a host reboot). */
  /** The sandbox's disk, then its bundle. */
  private async prepareBundle(r: SandboxRecord, link: LinkAddresses): Promise<void> {
    await attachDisk(this.disk(r), { create: false });
    await this.writeBundle(r, link);
  }

  /** The sandbox's bundle; under runc in a user namespace of its own (runtime/userns.ts). */
  private writeBundle(r: SandboxRecord, link: LinkAddresses): Promise<void> {
    return writeBundle(this.paths(r.id), r, link, this.opts.guest, this.driver(r.runtime).userns(r.slot));
  }

  private link(r: SandboxRecord): LinkAddresses {
    return linkAddresses(this.opts.network.subnet, r.slot, this.opts.network.ifacePrefix);
  }

  private record(id: string): SandboxRecord {
    const r = this.records.get(id);
    if (!r) throw notFound('sandbox', id);
    return r;
  }

  private guest(r: SandboxRecord): GuestClient {
    let g = this.guests.get(r.id);
    if (!g) {
      g = createGuestClient({ url: `http://${this.link(r).sandboxIp}:${GUEST_PORT}`, accessToken: r.accessToken });
      this.guests.set(r.id, g);
    }
    return g;
  }

  private dropGuest(id: string): void {
    this.guests.get(id)?.close();
    this.guests.delete(id);
  }

  private dnsTarget(ip: string) {
    for (const r of this.records.values()) {
      if (this.link(r).sandboxIp !== ip) continue;
      const link = this.link(r);
      return { policy: r.egress, learn: (ips: string[], ttl: number) => this.firewall.learn(link, ips, ttl) };
    }
    return undefined;
  }

  private async setState(r: SandboxRecord, state: SandboxRecord['state'], patch: Partial<SandboxRecord> = {}): Promise<void> {
    Object.assign(r, patch, { state });
    await this.store.save(r);
  }

  private async markFailed(r: SandboxRecord, error: string): Promise<void> {
    this.log('sandbox failed', { id: r.id, error });
    this.pids.delete(r.id);
    this.dropGuest(r.id);
    await this.setState(r, 'failed', { error });
  }

  /** Serializes operations on one sandbox. */
  private serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    // The last operation in the chain removes the entry, so the map holds only busy sandboxes.
    void tail.then(() => { if (this.locks.get(id) === tail) this.locks.delete(id); });
    return next;
  }

  private info(r: SandboxRecord): SandboxInfo {
    const driver = this.opts.drivers.get(r.runtime);
    const link = this.link(r);
    return {
      id: r.id,
      hostname: r.id,
      template: r.template,
      runtime: r.runtime,
      state: publicState(r.state),
      pauseMode: driver?.pauseMode ?? (r.runtime === 'gvisor' ? 'checkpoint' : 'freeze'),
      createdAt: r.createdAt,
      pausedAt: r.pausedAt,
      pausedWithMemory: r.pausedWithMemory,
      limits: { ...r.limits },
      disk: diskUsage(this.paths(r.id).disk),
      env: { ...r.env },
      egress: { ...r.egress, allow: [...r.egress.allow], deny: [...r.egress.deny] },
      address: link.sandboxIp,
      guest: { url: `http://${link.sandboxIp}:${GUEST_PORT}`, accessToken: r.accessToken, envdVersion: this.opts.guest.envdVersion },
      fromSnapshot: r.fromSnapshot,
      error: r.error,
    };
  }

  private async ensureNetwork(r: SandboxRecord): Promise<LinkAddresses> {
    const link = this.link(r);
    if (!netnsExists(r.id)) {
      await createNetns(r.id, link);
      this.addressed.add(r.id);
    }
    await enableForwarding(link);
    await this.firewall.apply(link, r.egress);
    return link;
  }

  /** Makes sure the namespace holds the sandbox's address before a boot or restore. */
  private async addressLink(r: SandboxRecord): Promise<void> {
    // A namespace this process has just created has it already (one `ip` call less per create).
    if (this.addressed.delete(r.id)) return;
    await addressForBoot(r.id, this.link(r));
  }

  private allocateSlot(): number {
    const slot = freeSlot(this.opts.network.subnet, [...this.records.values()].map((r) => r.slot), this.nextSlot);
    this.nextSlot = slot + 1;
    return slot;
  }

  // ---------------------------------------------------------------- Engine API

  list(): SandboxInfo[] {
    return [...this.records.values()].map((r) => this.info(r));
  }

  get(id: string): SandboxInfo {
    return this.info(this.record(id));
  }

  async create(req: CreateSandboxRequest): Promise<SandboxInfo> {
    const runtime = req.runtime ?? this.opts.defaultRuntime;
    this.driver(runtime);
    // Shipped templates (base, busybox, …) are built on first use.
    const template = await this.opts.templates.ensure(req.template);
    const id = this.newId(req.id);
    const limits = resolveLimits(req.limits, template.resources, this.diskSizes);
    const egress = validateEgressPolicy(req.egress ?? DEFAULT_EGRESS);
    validateEnv(req.env ?? {});
    const record: SandboxRecord = {
      id,
      template: template.name,
      templateBuildId: template.buildId,
      layers: template.layers,
      imageConfig: template.config,
      runtime,
      runtimeSha256: this.driver(runtime).binarySha256,
      state: 'creating',
      createdAt: new Date().toISOString(),
      slot: this.allocateSlot(),
      limits,
      env: { ...(req.env ?? {}) },
      egress,
      accessToken: req.accessToken ?? newSecret(),
      initSecret: newSecret(),
    };
    await this.materialize(record, async () => {
      await this.setState(record, 'created');
    });
    return this.info(record);
  }

  /** A free, valid sandbox id: the caller's, or a new one. */
  private newId(requested: string | undefined): string {
    const id = requested ?? newSandboxId();
    if (!ID_RE.test(id)) throw invalidArgument(`sandbox id '${id}' must be 20 characters of a-z and 0-9`);
    if (this.records.has(id)) throw new AgentboxError('already_exists', `sandbox '${id}' already exists`);
    return id;
  }

  /**
   * Registers a new sandbox and lays out its directory, network and bundle, then runs `finish`
   * (start it, restore it…). Whatever fails, everything made so far is removed and the original
   * error surfaces. The record is registered synchronously by the caller's tick, so its id and
   * address slot are taken before the first await.
   */
  private async materialize(record: SandboxRecord, finish: (p: SandboxPaths, link: LinkAddresses) => Promise<void>, seed?: (p: SandboxPaths) => Promise<void>): Promise<void> {
    this.records.set(record.id, record);
    const p = this.paths(record.id);
    try {
      await mkdir(p.dir, { recursive: true });
      await this.store.save(record);
      await attachDisk(this.disk(record), { create: true });
      await seed?.(p);
      const link = await this.ensureNetwork(record);
      await this.prepareBundle(record, link);
      await finish(p, link);
    } catch (err) {
      await this.teardown(record.id, record);
      throw asAgentboxError(err);
    }
  }

  async start(id: string): Promise<SandboxInfo> {
    return this.serialized(id, async () => {
      const r = this.record(id);
      if (r.state !== 'created') throw conflict(`sandbox ${id} is ${publicState(r.state)}; only a created sandbox can be started`);
      return this.boot(r);
    });
  }

  /** Boots the sandbox's bundle (first start, or resume of a filesystem-only pause). */
  private async boot(r: SandboxRecord): Promise<SandboxInfo> {
    const p = this.paths(r.id);
    if (!netnsExists(r.id) || !(await isMounted(p.rootfs))) await this.prepareBundle(r, await this.ensureNetwork(r));
    await this.addressLink(r);
    this.pids.set(r.id, await this.driver(r.runtime).run(r.id, p.bundle, p.log));
    await this.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined });
    await this.waitReady(r);
    return this.info(r);
  }

  async run(req: CreateSandboxRequest): Promise<SandboxInfo> {
    const created = await this.create(req);
    try {
      return await this.start(created.id);
    } catch (err) {
      await this.destroy(created.id).catch(() => undefined);
      throw asAgentboxError(err);
    }
  }

  /** Guest health, then the template's ready check. */
  private async waitReady(r: SandboxRecord): Promise<void> {
    const guest = this.guest(r);
    try {
      await guest.waitUntilReady({ timeoutMs: this.readyTimeoutMs });
    } catch (err) {
      const status = await this.driver(r.runtime).status(r.id);
      const why = status?.status === 'running' ? 'its guest daemon did not answer' : 'it stopped';
      throw new AgentboxError('unavailable', `sandbox ${r.id} did not become ready in ${this.readyTimeoutMs} ms: ${why}. See ${this.paths(r.id).log}.`, { cause: err });
    }
    const ready = r.imageConfig.ready;
    if (!ready) return;
    const deadline = Date.now() + ready.timeoutMs;
    for (;;) {
      const res = await guest.exec({ cmd: ready.cmd, timeoutMs: Math.max(1000, deadline - Date.now()) }).catch(() => undefined);
      if (res?.exitCode === 0) return;
      if (Date.now() > deadline) {
        throw new AgentboxError('unavailable', `template ${r.template}'s ready check ${JSON.stringify(ready.cmd)} did not pass within ${ready.timeoutMs} ms`);
      }
      await new Promise((res2) => setTimeout(res2, 100));
    }
  }

  private requireRunning(r: SandboxRecord, what: string): void {
    // A snapshot stops the sandbox for an instant; callers see it running, as before it started.
    if (r.state !== 'running' && r.state !== 'snapshotting') {
      throw conflict(`sandbox ${r.id} is ${publicState(r.state)}; ${what} needs it running${r.state === 'paused' ? ' (resume it first)' : ''}`, { state: publicState(r.state) });
    }
  }

  async exec(id: string, req: ExecRequest): Promise<ExecResult> {
    const r = this.record(id);
    this.requireRunning(r, 'exec');
    if (!Array.isArray(req.cmd) || req.cmd.length === 0) throw invalidArgument('cmd must be a non-empty argv array');
    return this.guest(r).exec(req);
  }

  async pause(id: string, opts: PauseOptions = {}): Promise<SandboxInfo> {
    return this.serialized(id, async () => {
      const r = this.record(id);
      this.requireRunning(r, 'pause');
      const driver = this.driver(r.runtime);
      if (opts.memory === false) {
        // Filesystem only: the writable layer is on disk already; stopping is all there is.
        this.pids.delete(id);
        this.dropGuest(id);
        await driver.delete(id);
        await this.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: false });
        return this.info(r);
      }
      if (driver.pauseMode === 'freeze') {
        await driver.freeze(id);
        await this.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: true });
        return this.info(r);
      }
      const p = this.paths(id);
      // The checkpoint goes to an image of its own, so that a pause cannot fill the host disk.
      await removeDisk(this.checkpointDisk(r));
      await attachDisk(this.checkpointDisk(r), { create: true });
      await mkdir(join(p.checkpoint, IMAGES), { recursive: true });
      this.pids.delete(id);
      await this.setState(r, 'pausing');
      try {
        await driver.checkpoint(id, join(p.checkpoint, IMAGES));
        await this.writeSnapshotManifest(p.checkpoint, `pause-${id}`, r);
        await driver.delete(id);
      } catch (err) {
        await removeDisk(this.checkpointDisk(r)).catch(() => undefined);
        // The sandbox keeps running when checkpoint fails; report the cause, keep the state true.
        const status = await driver.status(id);
        if (status?.status === 'running') {
          await this.setState(r, 'running');
          await this.watch(r);
        } else await this.markFailed(r, `pause failed: ${asAgentboxError(err).message}`);
        throw asAgentboxError(err);
      }
      this.dropGuest(id);
      await this.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: true });
      return this.info(r);
    });
  }

  async resume(id: string, opts: PauseOptions = {}): Promise<SandboxInfo> {
    return this.serialized(id, async () => {
      const r = this.record(id);
      if (r.state !== 'paused') throw conflict(`sandbox ${id} is ${publicState(r.state)}; only a paused sandbox can be resumed`, { state: publicState(r.state) });
      const driver = this.driver(r.runtime);
      if (opts.memory === false && r.pausedWithMemory !== false) {
        // Discard what the pause kept (a frozen container, or checkpoint images) and boot cold.
        await driver.delete(id);
        await removeDisk(this.checkpointDisk(r));
        await this.setState(r, 'paused', { pausedWithMemory: false });
      }
      if (r.pausedWithMemory === false) return this.boot(r);
      if (driver.pauseMode === 'freeze') {
        await driver.thaw(id);
        await this.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined });
        return this.info(r);
      }
      const p = this.paths(id);
      const link = this.link(r);
      // Resume is on the hot path of every auto-resume: independent steps run together, and
      // the bundle is rewritten only when a host reboot took its mount (and namespace) away.
      await Promise.all([
        verifySnapshot(p.checkpoint, () => driver.binarySha256),
        (async () => {
          if (!netnsExists(id) || !(await isMounted(p.rootfs))) {
            await this.ensureNetwork(r);
            await this.prepareBundle(r, link);
          }
          await this.addressLink(r);
        })(),
      ]);
      await this.setState(r, 'resuming');
      try {
        // pause deleted the container, so restore needs no delete first.
        this.pids.set(id, await driver.restore(id, p.bundle, join(p.checkpoint, IMAGES), p.log));
      } catch (err) {
        await driver.delete(id).catch(() => undefined);
        await this.setState(r, 'paused');
        throw asAgentboxError(err);
      }
      await this.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined });
      // runsc may still read the image files; the lazy unmount keeps them until it closes them.
      await removeDisk(this.checkpointDisk(r));
      await this.waitReady(r);
      return this.info(r);
    });
  }

  private async writeSnapshotManifest(dir: string, snapshotId: string, r: SandboxRecord): Promise<SnapshotManifest> {
    const manifest: SnapshotManifest = {
      version: 1,
      snapshotId,
      sandboxId: r.id,
      template: r.template,
      templateBuildId: r.templateBuildId,
      layers: r.layers,
      runtime: { name: r.runtime, sha256: this.driver(r.runtime).binarySha256 },
      createdAt: new Date().toISOString(),
      files: await hashImageFiles(dir, IMAGES),
    };
    await writeManifest(dir, manifest);
    return manifest;
  }

  async snapshot(id: string): Promise<SnapshotInfo> {
    return this.serialized(id, async () => {
      const r = this.record(id);
      this.requireRunning(r, 'snapshot');
      const driver = this.driver(r.runtime);
      if (driver.pauseMode !== 'checkpoint') {
        throw new AgentboxError('not_supported', `the ${r.runtime} runtime class cannot take memory snapshots on this host; use the gvisor runtime class`);
      }
      const snapshotId = `snap-${newSandboxId()}`;
      const dir = join(this.snapshotsDir, snapshotId);
      const p = this.paths(id);
      await mkdir(join(dir, IMAGES), { recursive: true });
      try {
        // Checkpoint stops the sandbox, so its writable layer is copied at the same instant
        // as its memory; then the sandbox continues from the very images just written. The
        // state says so on disk: a crash in between must not leave it stopped (see settle).
        this.pids.delete(id);
        await this.setState(r, 'snapshotting', { snapshotDir: dir });
        await driver.checkpoint(id, join(dir, IMAGES));
        await copyTree(p.upper, join(dir, 'upper'));
        const manifest = await this.writeSnapshotManifest(dir, snapshotId, r);
        const saved: SnapshotSandbox = { limits: r.limits, env: r.env, egress: r.egress, imageConfig: r.imageConfig, accessToken: r.accessToken, initSecret: r.initSecret };
        await writeFileAtomic(join(dir, 'sandbox.json'), JSON.stringify(saved));
        await this.continueFrom(r, join(dir, IMAGES));
        await this.setState(r, 'running', { snapshotDir: undefined });
        return snapshotInfo(manifest);
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        const status = await driver.status(id);
        if (status?.status !== 'running') await this.markFailed(r, `snapshot failed: ${asAgentboxError(err).message}`);
        else await this.setState(r, 'running', { snapshotDir: undefined });
        throw asAgentboxError(err);
      }
    });
  }

  /** Restarts a sandbox a checkpoint stopped from that checkpoint's images, over its own writable layer. */
  private async continueFrom(r: SandboxRecord, images: string): Promise<void> {
    const driver = this.driver(r.runtime);
    const p = this.paths(r.id);
    await driver.delete(r.id);
    await this.addressLink(r);
    this.pids.set(r.id, await driver.restore(r.id, p.bundle, images, p.log));
    await this.waitReady(r);
  }

  listSnapshots(): SnapshotInfo[] {
    if (!existsSync(this.snapshotsDir)) return [];
    const out: SnapshotInfo[] = [];
    for (const name of readdirSync(this.snapshotsDir)) {
      try {
        out.push(snapshotInfo(JSON.parse(readFileSync(join(this.snapshotsDir, name, MANIFEST), 'utf8')) as SnapshotManifest));
      } catch {
        // no manifest: an unfinished snapshot, invisible until deleted
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    if (!/^snap-[a-z0-9]{20}$/.test(snapshotId)) throw notFound('snapshot', snapshotId);
    const dir = join(this.snapshotsDir, snapshotId);
    if (!existsSync(dir)) throw notFound('snapshot', snapshotId);
    await rm(dir, { recursive: true, force: true });
  }

  async restoreSnapshot(snapshotId: string, req: ForkRequest = {}): Promise<SandboxInfo> {
    if (!/^snap-[a-z0-9]{20}$/.test(snapshotId)) throw notFound('snapshot', snapshotId);
    const dir = join(this.snapshotsDir, snapshotId);
    if (!existsSync(dir)) throw notFound('snapshot', snapshotId);
    const manifest = await verifySnapshot(dir, (runtime) => this.driver(runtime).binarySha256);
    const driver = this.driver(manifest.runtime.name);
    const saved = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as SnapshotSandbox;
    validateEnv(req.env ?? {});
    const record: SandboxRecord = {
      id: this.newId(req.id),
      template: manifest.template,
      templateBuildId: manifest.templateBuildId,
      layers: manifest.layers,
      imageConfig: saved.imageConfig,
      runtime: manifest.runtime.name,
      runtimeSha256: driver.binarySha256,
      state: 'creating',
      createdAt: new Date().toISOString(),
      slot: this.allocateSlot(),
      // Snapshots taken before disks had a size get the default one.
      limits: { ...saved.limits, diskMiB: saved.limits.diskMiB ?? this.diskSizes.defaultMiB },
      env: { ...saved.env, ...(req.env ?? {}) },
      egress: saved.egress,
      accessToken: req.accessToken ?? newSecret(),
      // Fresh: the restored guest still holds the source's secret, and rekeyGuest swaps it.
      initSecret: newSecret(),
      fromSnapshot: snapshotId,
    };
    await this.materialize(record, async (p) => {
      await this.addressLink(record);
      this.pids.set(record.id, await driver.restore(record.id, p.bundle, join(dir, IMAGES), p.log));
      // The restored guest still answers to the source's token and secret: give it this sandbox's
      // before the record says running (a crash in between leaves a 'creating' record, removed).
      await this.rekeyGuest(record, saved.accessToken, saved.initSecret);
      await this.setState(record, 'running');
    }, (p) => copyTree(join(dir, 'upper'), p.upper));
    return this.info(record);
  }

  private async rekeyGuest(record: SandboxRecord, sourceToken: string, sourceInitSecret: string): Promise<void> {
    const viaOld = createGuestClient({ url: `http://${this.link(record).sandboxIp}:${GUEST_PORT}`, accessToken: sourceToken });
    try {
      await viaOld.waitUntilReady({ timeoutMs: this.readyTimeoutMs });
      await viaOld.init(sourceInitSecret, { accessToken: record.accessToken, initSecret: record.initSecret, envVars: record.env });
    } finally {
      viaOld.close();
    }
  }

  async fork(id: string, req: ForkRequest = {}): Promise<SandboxInfo> {
    const snap = await this.snapshot(id);
    try {
      return await this.restoreSnapshot(snap.id, req);
    } finally {
      await this.deleteSnapshot(snap.id).catch(() => undefined);
    }
  }

  async setEgress(id: string, policy: EgressPolicy): Promise<SandboxInfo> {
    const r = this.record(id);
    const egress = validateEgressPolicy(policy);
    await this.firewall.apply(this.link(r), egress);
    r.egress = egress;
    await this.store.save(r);
    return this.info(r);
  }

  async setEnv(id: string, env: Record<string, string>): Promise<SandboxInfo> {
    validateEnv(env);
    return this.serialized(id, async () => {
      const r = this.record(id);
      this.requireRunning(r, 'setting its environment');
      await this.guest(r).init(r.initSecret, { envVars: env });
      r.env = { ...r.env, ...env };
      await this.store.save(r);
      // The guest config file is re-read at a cold boot (after a host reboot): keep it current.
      await this.writeBundle(r, this.link(r));
      return this.info(r);
    });
  }

  async inspect(id: string): Promise<SandboxUsage> {
    const r = this.record(id);
    const [status, usage] = await Promise.all([this.driver(r.runtime).status(id), cgroupUsage(id)]);
    const running = status?.status === 'running' || status?.status === 'paused';
    return { pid: running ? status!.pid : undefined, ...usage, disk: diskUsage(this.paths(id).disk) };
  }

  async destroy(id: string): Promise<void> {
    return this.serialized(id, async () => {
      const r = this.record(id);
      await this.setState(r, 'destroying');
      await this.teardown(id, r);
    });
  }

  /** Removes everything a sandbox may have: container, rules, namespace, mount, files. */
  private async teardown(id: string, r: SandboxRecord | undefined): Promise<void> {
    this.pids.delete(id);
    this.addressed.delete(id);
    this.dropGuest(id);
    if (r) {
      const driver = this.opts.drivers.get(r.runtime);
      if (driver) {
        // A frozen runc container must be thawed before it can be killed.
        if (driver.pauseMode === 'freeze' && (await driver.status(id))?.status === 'paused') await driver.thaw(id).catch(() => undefined);
        await driver.delete(id);
      }
      const link = this.link(r);
      await this.firewall.remove(link);
      await deleteNetns(id, link);
    } else {
      for (const d of this.opts.drivers.values()) await d.delete(id).catch(() => undefined);
    }
    const p = this.paths(id, r?.runtime);
    // A runc sandbox made before runc had user namespaces has its root filesystem in its dir.
    for (const rootfs of new Set([p.rootfs, this.paths(id, 'gvisor').rootfs])) await unmount(rootfs).catch(() => undefined);
    if (r?.runtime === 'runc') await removeUsernsRootfs(p.rootfs);
    // Not catching: deleting the directory over a still-mounted disk would fail half-way.
    await detachDisk({ file: p.diskImage, mount: p.disk });
    await detachDisk({ file: p.checkpointImage, mount: p.checkpoint });
    await rm(p.dir, { recursive: true, force: true });
    this.records.delete(id);
  }

  async close(): Promise<void> {
    clearInterval(this.monitor);
    for (const g of this.guests.values()) g.close();
    this.guests.clear();
    await this.dns.stop();
    this.firewall.stop();
  }
}

/** Waits, up to a checkpoint's own time limit, until no process writes into `images`. */
async function untilNoWriters(images: string): Promise<void> {
  const deadline = Date.now() + CHECKPOINT_TIMEOUT_MS;
  while (processesWriting(images).length > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
}

const hasImages = (dir: string) => existsSync(dir) && readdirSync(dir).length > 0;

/** PIDs of processes whose command line names `path` (a checkpoint writing into it). */
function processesWriting(path: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(path)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function publicState(s: SandboxRecord['state']): SandboxState {
  switch (s) {
    case 'creating':
    case 'created':
      return 'creating';
    case 'pausing':
    case 'snapshotting':
    case 'running':
      return 'running';
    case 'resuming':
    case 'paused':
      return 'paused';
    case 'destroying':
      return 'killed';
    default:
      return 'failed';
  }
}

function snapshotInfo(m: SnapshotManifest): SnapshotInfo {
  return { id: m.snapshotId, sandboxId: m.sandboxId, template: m.template, runtime: m.runtime.name, createdAt: m.createdAt };
}

function resolveLimits(req: Partial<SandboxLimits> | undefined, template: Omit<SandboxLimits, 'diskMiB'> & { diskMiB?: number }, disk: DiskOptions): SandboxLimits {
  const given = Object.fromEntries(Object.entries(req ?? {}).filter(([, v]) => v !== undefined));
  const limits = { ...template, diskMiB: template.diskMiB ?? disk.defaultMiB, ...given } as SandboxLimits;
  if (!(limits.cpu > 0 && limits.cpu <= 64)) throw invalidArgument(`cpu must be between 0 and 64 cores, not ${limits.cpu}`);
  if (!Number.isInteger(limits.memoryMiB) || limits.memoryMiB < 64 || limits.memoryMiB > 262_144) {
    throw invalidArgument(`memoryMiB must be an integer from 64 to 262144, not ${limits.memoryMiB}`);
  }
  if (!Number.isInteger(limits.pids) || limits.pids < MIN_PIDS || limits.pids > MAX_PIDS) {
    throw invalidArgument(`pids must be an integer from ${MIN_PIDS} to ${MAX_PIDS} (the guest daemon itself uses about 15), not ${limits.pids}`);
  }
  if (!Number.isInteger(limits.diskMiB) || limits.diskMiB < MIN_DISK_MIB || limits.diskMiB > disk.maxMiB) {
    const from = given.diskMiB !== undefined ? 'asked for' : template.diskMiB !== undefined ? 'the template asks for' : 'the default is';
    throw invalidArgument(`diskMiB must be an integer from ${MIN_DISK_MIB} to ${disk.maxMiB} on this host; ${from} ${limits.diskMiB}`);
  }
  return limits;
}

function validateEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw invalidArgument(`environment variable name '${k}' is invalid`);
    if (typeof v !== 'string') throw invalidArgument(`environment variable ${k} must be a string`);
  }
}
