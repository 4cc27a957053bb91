/**
 * The engine's shared state: every sandbox's record, host PID, guest client and operation
 * lock, and the helpers each job (lifecycle.ts, pause-resume.ts, snapshot-ops.ts,
 * recovery.ts) needs to read and change them. Jobs import this module; it imports none of them.
 */
import { join } from 'node:path';
import { AgentboxError, conflict, notFound } from '../api/errors.ts';
import { createGuestClient, type GuestClient } from '../envd/client.ts';
import { GUEST_PORT, type StartCommandStatus } from '../api/envd-protocol.ts';
import { sandboxPaths, writeBundle, type SandboxPaths } from './bundle.ts';
import { DEFAULT_DISK, type DiskOptions, type LocalEngineOptions } from './engine-options.ts';
import { attachDisk, diskUsage, type DiskImage } from './images/disk.ts';
import { PreparedDisks } from './images/prepared-disks.ts';
import { freeSlot, linkAddresses, type LinkAddresses } from './network/addresses.ts';
import { EgressFirewall } from './network/egress.ts';
import { addressForBoot, createNetns, enableForwarding, netnsExists } from './network/netns.ts';
import { runtimeClass } from './runtime/classes.ts';
import type { RuntimeDriver } from './runtime/driver.ts';
import { DEFAULT_MAX_GOLDEN, GoldenSnapshots } from './golden-snapshots.ts';
import { PerKeyQueue } from '../api/per-key-queue.ts';
import { PhaseTimes } from './phase-times.ts';
import { RecordStore, type EngineRecord, type EngineRecordState } from './sandbox-record.ts';
import { allSettled } from './settle.ts';
import type { RuntimeClassName, SandboxInfo, SandboxState } from './types.ts';
import { VolumeDisks } from './volumes/disks.ts';

/**
 * A checkpoint holds the sandbox's memory (bounded by its memory limit) plus the sentry's
 * state; its image gets this much on top of the memory limit.
 */
const CHECKPOINT_EXTRA_MIB = 256;

export class SandboxTable {
  readonly records = new Map<string, EngineRecord>();
  /** Host PID of each running sandbox (sentry or init), watched by the liveness monitor. */
  readonly pids = new Map<string, number>();
  /** Sandboxes whose namespace was created (addressed) by this process and not booted since. */
  readonly addressed = new Set<string>();
  private readonly guests = new Map<string, GuestClient>();
  /** Per-sandbox operation chain: pause/resume/destroy/fork of one sandbox never interleave. */
  private readonly queue = new PerKeyQueue();
  private readonly queuedAfterward = new Set<Promise<void>>();
  readonly store: RecordStore;
  readonly snapshotsDir: string;
  readonly firewall: EgressFirewall;
  readonly readyTimeoutMs: number;
  readonly diskSizes: DiskOptions;
  /** Formatted images waiting for a create (started by the engine's init, stopped by close). */
  readonly preparedDisks: PreparedDisks;
  readonly volumes: VolumeDisks;
  /** Checkpoints of freshly booted sandboxes that creates restore (golden-boot.ts); absent when turned off. */
  readonly goldens?: GoldenSnapshots;
  private nextSlot = 0;

  constructor(readonly opts: LocalEngineOptions) {
    this.store = new RecordStore(join(opts.home, 'sandboxes'));
    this.snapshotsDir = join(opts.home, 'snapshots');
    this.volumes = new VolumeDisks(join(opts.home, 'volumes'));
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
    this.diskSizes = { ...DEFAULT_DISK, ...opts.disk };
    this.preparedDisks = new PreparedDisks({ dir: join(opts.home, 'prepared-disks'), sizeMiB: this.diskSizes.defaultMiB, count: this.diskSizes.prepared, diskIn: (dir) => writableDisk(sandboxPaths(dir)), log: (msg, fields) => this.log(msg, fields) });
    const maxGolden = opts.goldenSnapshots ?? DEFAULT_MAX_GOLDEN;
    if (maxGolden > 0) this.goldens = new GoldenSnapshots(join(opts.home, 'golden'), { max: maxGolden, log: (msg, fields) => this.log(msg, fields) });
    const n = opts.network;
    this.firewall = new EgressFirewall({ table: n.table, subnet: n.subnet, ifacePrefix: n.ifacePrefix, dnsPort: n.dnsPort, nat: n.nat, allowPrivate: n.allowPrivate ?? [] });
  }

  log(msg: string, fields?: Record<string, unknown>): void {
    this.opts.log?.(msg, fields);
  }

  /** Times the steps of operation `op` on sandbox `id` for `onPhases` (free when nobody listens; a golden builder's are nobody's). */
  phases(op: string, id: string): PhaseTimes {
    return new PhaseTimes(op, id, this.records.get(id)?.golden ? undefined : this.opts.onPhases);
  }

  driver(name: RuntimeClassName): RuntimeDriver {
    const d = this.opts.drivers.get(name);
    if (!d) {
      throw new AgentboxError('not_supported', `runtime class '${name}' is not available on this host; available: ${[...this.opts.drivers.keys()].join(', ') || 'none'}. Run 'agentbox doctor'.`);
    }
    return d;
  }

  paths(id: string, runtime = this.records.get(id)?.runtime): SandboxPaths {
    return sandboxPaths(this.store.dir(id), runtime);
  }

  /** The image that holds the sandbox's writable layer. */
  disk(r: Pick<EngineRecord, 'id' | 'limits'>): DiskImage {
    return { ...writableDisk(this.paths(r.id)), sizeMiB: r.limits.diskMiB };
  }

  /** The image that holds a paused sandbox's checkpoint: sized by its memory limit. */
  checkpointDisk(r: Pick<EngineRecord, 'id' | 'limits'>): DiskImage {
    const p = this.paths(r.id);
    return { file: p.checkpointImage, mount: p.checkpoint, sizeMiB: r.limits.memoryMiB + CHECKPOINT_EXTRA_MIB };
  }

  /** Mounts the sandbox's disk and volumes, then writes its bundle (first boot, or after a host reboot). */
  async prepareBundle(r: EngineRecord, link: LinkAddresses): Promise<void> {
    await attachDisk(this.disk(r), { create: false });
    for (const v of r.volumes ?? []) await this.volumes.attach(v.volumeId);
    await this.writeBundle(r, link);
  }

  /** The sandbox's bundle; under runc in a user namespace of its own (runtime/userns.ts). */
  writeBundle(r: EngineRecord, link: LinkAddresses): Promise<void> {
    const volumes = (r.volumes ?? []).map((v) => ({ source: this.volumes.dir(v.volumeId), destination: v.path, readonly: false }));
    return writeBundle(this.paths(r.id), r, link, this.opts.guest, volumes, this.driver(r.runtime).userns(r.slot));
  }

  link(r: EngineRecord): LinkAddresses {
    return linkAddresses(this.opts.network.subnet, r.slot, this.opts.network.ifacePrefix);
  }

  record(id: string): EngineRecord {
    const r = this.records.get(id);
    if (!r) throw notFound('sandbox', id);
    return r;
  }

  guest(r: EngineRecord): GuestClient {
    let g = this.guests.get(r.id);
    if (!g) {
      g = createGuestClient({ url: `http://${this.link(r).sandboxIp}:${GUEST_PORT}`, accessToken: r.accessToken });
      this.guests.set(r.id, g);
    }
    return g;
  }

  dropGuest(id: string): void {
    this.guests.get(id)?.close();
    this.guests.delete(id);
  }

  closeGuests(): void {
    for (const g of this.guests.values()) g.close();
    this.guests.clear();
  }

  /** The egress policy and learner of the sandbox at `ip`, for the DNS proxy. */
  dnsTarget(ip: string) {
    for (const r of this.records.values()) {
      if (this.link(r).sandboxIp !== ip) continue;
      const link = this.link(r);
      return { policy: r.egress, learn: (ips: string[], ttl: number) => this.firewall.learn(link, ips, ttl) };
    }
    return undefined;
  }

  async setState(r: EngineRecord, state: EngineRecordState, patch: Partial<EngineRecord> = {}): Promise<void> {
    Object.assign(r, patch, { state });
    await this.store.save(r);
  }

  async markFailed(r: EngineRecord, error: string): Promise<void> {
    this.log('sandbox failed', { id: r.id, error });
    this.pids.delete(r.id);
    this.dropGuest(r.id);
    await this.setState(r, 'failed', { error });
  }

  /** Serializes operations on one sandbox. */
  serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(id, fn);
  }

  /**
   * Queues `fn` behind the operation now running on sandbox `id`, without waiting for it: work
   * the caller need not wait for (a pause's or a resume's clean-up) leaves its path, yet still
   * ends before the sandbox's next operation starts. A failure is logged; what a crash leaves
   * undone, recovery.ts removes.
   */
  afterward(id: string, what: string, fn: () => Promise<void>): void {
    const job = this.queue.run(id, fn).catch((err) => this.log(`${what} failed`, { id, err: String(err) }));
    this.queuedAfterward.add(job);
    void job.finally(() => this.queuedAfterward.delete(job));
  }

  /** Waits for the work queued by `afterward`, so that an engine that closes leaves none undone. */
  async afterwardDone(): Promise<void> {
    while (this.queuedAfterward.size > 0) await Promise.all(this.queuedAfterward);
  }

  /** Records the host PID of a sandbox that has just started or been restored. */
  async watch(r: EngineRecord): Promise<void> {
    const status = await this.driver(r.runtime).status(r.id);
    if (status?.pid) this.pids.set(r.id, status.pid);
  }

  info(r: EngineRecord): SandboxInfo {
    const link = this.link(r);
    return {
      id: r.id,
      hostname: r.id,
      template: r.template,
      runtime: r.runtime,
      state: publicState(r.state),
      pauseMode: runtimeClass(r.runtime).pauseMode,
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
      volumes: (r.volumes ?? []).map((v) => ({ ...v })),
      error: r.error,
    };
  }

  async ensureNetwork(r: EngineRecord): Promise<LinkAddresses> {
    const link = this.link(r);
    // The rules name the interface, not the device, so they can be written while the link is
    // being made: one `nft` call less on the path of a create. Nothing runs in the namespace
    // before this returns, and an interface without rules is dropped (egress.ts) meanwhile.
    await allSettled([this.ensureLink(r, link), this.firewall.apply(link, r.egress)]);
    return link;
  }

  /** The namespace and veth pair, made if missing, with forwarding on at the host side. */
  private async ensureLink(r: EngineRecord, link: LinkAddresses): Promise<void> {
    if (!netnsExists(r.id)) {
      await createNetns(r.id, link);
      this.addressed.add(r.id);
    }
    await enableForwarding(link);
  }

  /** Makes sure the namespace holds the sandbox's address before a boot or restore. */
  async addressLink(r: EngineRecord): Promise<void> {
    // A namespace this process has just created has it already (one `ip` call less per create).
    if (this.addressed.delete(r.id)) return;
    await addressForBoot(r.id, this.link(r));
  }

  allocateSlot(): number {
    const slot = freeSlot(this.opts.network.subnet, [...this.records.values()].map((r) => r.slot), this.nextSlot);
    this.nextSlot = slot + 1;
    return slot;
  }

  /**
   * The guest answers. All a sandbox restored from its own memory (a resume, the continuation of
   * a snapshot) waits for: its processes are as they were, so the template's ready check, which
   * the user's work may since have made fail, has nothing to say about it.
   */
  async waitGuest(r: EngineRecord): Promise<void> {
    const guest = this.guest(r);
    try {
      await guest.waitUntilReady({ timeoutMs: this.readyTimeoutMs });
    } catch (err) {
      const status = await this.driver(r.runtime).status(r.id);
      const why = status?.status === 'running' ? 'its guest daemon did not answer' : 'it stopped';
      throw new AgentboxError('unavailable', `sandbox ${r.id} did not become ready in ${this.readyTimeoutMs} ms: ${why}. See ${this.paths(r.id).log}.`, { cause: err });
    }
  }

  /** A booted sandbox: its guest, then the template's ready check. */
  async waitReady(r: EngineRecord): Promise<void> {
    await this.waitGuest(r);
    const guest = this.guest(r);
    const ready = r.imageConfig.ready;
    if (!ready) return;
    const start = r.imageConfig.start;
    const deadline = Date.now() + ready.timeoutMs;
    for (;;) {
      // Asked before the check, so a check that fails after a failed end ran wholly after it: a
      // start command that put a server in the background before it failed had its chance.
      const started = start ? await guest.startCommand().catch(() => undefined) : undefined;
      const res = await guest.exec({ cmd: ready.cmd, timeoutMs: Math.max(1000, deadline - Date.now()) }).catch(() => undefined);
      if (res?.exitCode === 0) return;
      const failure = started && startCommandFailure(started);
      if (failure) {
        const output = started.output.length ? `; its last output:\n${started.output.join('\n')}` : '; it wrote no output';
        throw new AgentboxError('unavailable', `the start command ${JSON.stringify(start!.cmd)} ${failure} before the ready check ${JSON.stringify(ready.cmd)} passed${output}`);
      }
      if (Date.now() > deadline) {
        throw new AgentboxError('unavailable', `template ${r.template}'s ready check ${JSON.stringify(ready.cmd)} did not pass within ${ready.timeoutMs} ms`);
      }
      await new Promise((res2) => setTimeout(res2, 100));
    }
  }

  requireRunning(r: EngineRecord, what: string): void {
    // A snapshot stops the sandbox for an instant; callers see it running, as before it started.
    if (r.state !== 'running' && r.state !== 'snapshotting') {
      throw conflict(`sandbox ${r.id} is ${publicState(r.state)}; ${what} needs it running${r.state === 'paused' ? ' (resume it first)' : ''}`, { state: publicState(r.state) });
    }
  }
}

/**
 * Why a start command can no longer make its sandbox ready: it could not be launched, exited
 * non-zero or was killed. An exit with 0 is not one: daemonizing commands (`redis-server
 * --daemonize yes`) exit 0 while what they started gets ready.
 */
function startCommandFailure(s: StartCommandStatus): string | undefined {
  if (s.state === 'failed') return `could not be started (${s.error ?? 'no reason given'})`;
  if (s.state !== 'ended' || !s.end) return undefined;
  if (!s.end.exited) return `was ended by ${s.end.status}`;
  return s.end.exitCode === 0 ? undefined : `exited with code ${s.end.exitCode}`;
}

export function publicState(s: EngineRecordState): SandboxState {
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

/** Where a sandbox's directory holds the image of its writable layer and mounts it. */
function writableDisk(p: SandboxPaths): Pick<DiskImage, 'file' | 'mount'> {
  return { file: p.diskImage, mount: p.disk };
}
