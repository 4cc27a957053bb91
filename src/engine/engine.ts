/**
 * The single-node engine: sandboxes as gVisor (or runc) containers on this machine, each with
 * an overlay root filesystem, its own network namespace and egress rules, and the guest daemon
 * as PID 1. State lives on disk per sandbox (sandbox-record.ts); every operation writes the
 * record before and after its side effects so recovery can finish or undo it after a crash.
 *
 * This class is the `Engine` façade: it owns start-up and shutdown and delegates each call to
 * the module of its job over the shared sandbox table (sandbox-table.ts).
 */
import { conflict } from '../api/errors.ts';
import type { LocalEngineOptions } from './engine-options.ts';
import { ensurePrivateDir } from './fsutil.ts';
import { useCommandHost } from './command.ts';
import { sweepOrphanLoops } from './images/disk.ts';
import * as goldenBoot from './golden-boot.ts';
import type { TemplateInfo } from './images/template-store.ts';
import * as lifecycle from './lifecycle.ts';
import { DnsProxy } from './network/dns-proxy.ts';
import { openUplinks } from './network/netns.ts';
import * as pauseResume from './pause-resume.ts';
import { checkLiveness, recover } from './recovery.ts';
import * as running from './running.ts';
import { capAllSandboxes } from './runtime/pids-ceiling.ts';
import { SandboxTable } from './sandbox-table.ts';
import * as snapshots from './snapshot-ops.ts';
import type {
  CreateSandboxRequest, EgressPolicy, Engine, ExecRequest, ExecResult, ForkRequest, PauseOptions,
  RuntimeClassName, SandboxInfo, SandboxUsage, SnapshotInfo,
} from './types.ts';

const LIVENESS_INTERVAL_MS = 1000;

export class LocalEngine implements Engine {
  private readonly t: SandboxTable;
  private readonly dns: DnsProxy;
  private monitor?: NodeJS.Timeout;
  private releaseCommandHost?: () => void;

  constructor(private readonly opts: LocalEngineOptions) {
    this.t = new SandboxTable(opts);
    const n = opts.network;
    this.dns = new DnsProxy({
      port: n.dnsPort,
      upstream: n.dnsUpstream,
      lookup: (ip) => this.t.dnsTarget(ip),
      onError: (err) => this.t.log('dns proxy error', { err: String(err) }),
    });
  }

  /** Sets up host networking and re-adopts every sandbox found on disk. */
  async init(): Promise<void> {
    const t = this.t;
    // Tools (mount, ip, nft, runsc…) start from a small process of their own: a fork of the
    // engine stops its event loop for milliseconds (command-host.ts).
    this.releaseCommandHost = useCommandHost();
    // 0700: upper dirs and checkpoints hold the sandboxes' files (setuid binaries included).
    await ensurePrivateDir(this.opts.home);
    await ensurePrivateDir(t.store.root);
    await ensurePrivateDir(t.snapshotsDir);
    await capAllSandboxes();
    await t.firewall.init(this.opts.network.nat ? await openUplinks() : []);
    await this.dns.start();
    // Before recovery: a sandbox it boots again binds its volumes' mounted directories.
    await t.volumes.attachAll((msg, fields) => t.log(msg, fields));
    await recover(t);
    await t.goldens?.init(new Set([...this.opts.drivers.values()].map((d) => d.binarySha256)));
    const swept = await sweepOrphanLoops(t.store.root, (id) => t.records.has(id));
    if (swept > 0) t.log('released loop devices of removed sandboxes', { count: swept });
    await t.preparedDisks.start();
    this.monitor = setInterval(() => void checkLiveness(t), LIVENESS_INTERVAL_MS);
    this.monitor.unref();
  }

  list(): SandboxInfo[] {
    return [...this.t.records.values()].filter((r) => !r.golden).map((r) => this.t.info(r));
  }

  get(id: string): SandboxInfo {
    return this.t.info(this.t.record(id));
  }

  create(req: CreateSandboxRequest): Promise<SandboxInfo> { return lifecycle.create(this.t, req); }
  start(id: string): Promise<SandboxInfo> { return lifecycle.start(this.t, id); }
  run(req: CreateSandboxRequest): Promise<SandboxInfo> { return goldenBoot.run(this.t, req); }
  prepareGolden(template: string, runtime?: RuntimeClassName): Promise<boolean> { return goldenBoot.prepare(this.t, template, runtime); }
  startOnce(template: TemplateInfo, runtime?: RuntimeClassName): Promise<boolean> { return goldenBoot.startOnce(this.t, template, runtime); }
  destroy(id: string): Promise<void> { return lifecycle.destroy(this.t, id); }

  exec(id: string, req: ExecRequest): Promise<ExecResult> { return running.exec(this.t, id, req); }
  setEgress(id: string, policy: EgressPolicy): Promise<SandboxInfo> { return running.setEgress(this.t, id, policy); }
  setEnv(id: string, env: Record<string, string>): Promise<SandboxInfo> { return running.setEnv(this.t, id, env); }
  inspect(id: string): Promise<SandboxUsage> { return running.inspect(this.t, id); }
  logPath(id: string): string { return this.t.paths(this.t.record(id).id).log; }

  pause(id: string, opts?: PauseOptions): Promise<SandboxInfo> { return pauseResume.pause(this.t, id, opts); }
  resume(id: string, opts?: PauseOptions): Promise<SandboxInfo> { return pauseResume.resume(this.t, id, opts); }

  snapshot(id: string): Promise<SnapshotInfo> { return snapshots.snapshot(this.t, id); }
  listSnapshots(): SnapshotInfo[] { return snapshots.listSnapshots(this.t); }
  deleteSnapshot(snapshotId: string): Promise<void> { return snapshots.deleteSnapshot(this.t, snapshotId); }
  restoreSnapshot(snapshotId: string, req?: ForkRequest): Promise<SandboxInfo> { return snapshots.restoreSnapshot(this.t, snapshotId, req); }
  fork(id: string, req?: ForkRequest): Promise<SandboxInfo> { return snapshots.fork(this.t, id, req); }

  createVolume(id: string, sizeMiB: number): Promise<void> { return this.t.volumes.create(id, sizeMiB); }
  volumeDir(id: string): string { return this.t.volumes.dir(id); }

  async deleteVolume(id: string): Promise<void> {
    const users = [...this.t.records.values()].filter((r) => r.volumes?.some((v) => v.volumeId === id)).map((r) => r.id);
    if (users.length > 0) throw conflict(`volume ${id} is mounted by sandbox ${users.join(', ')}; kill ${users.length > 1 ? 'them' : 'it'} first`, { sandboxes: users });
    await this.t.volumes.remove(id);
  }

  async close(): Promise<void> {
    clearInterval(this.monitor);
    await this.t.goldens?.close();
    await this.t.afterwardDone();
    this.t.closeGuests();
    await this.dns.stop();
    this.t.firewall.stop();
    await this.t.preparedDisks.stop();
    this.releaseCommandHost?.();
  }
}
