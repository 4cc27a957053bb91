/**
 * A sandbox's life: create (directory, disk, network, bundle), start, boot, run, destroy, and
 * the teardown that removes whatever a sandbox may have, used by failed creates and recovery too.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { AgentboxError, asAgentboxError, conflict, invalidArgument } from '../api/errors.ts';
import { newSandboxId, SANDBOX_ID_RE } from '../api/ids.ts';
import { sandboxPaths, type SandboxPaths } from './bundle.ts';
import type { DiskOptions } from './engine-options.ts';
import { attachDisk, detachDisk, switchToDirectIoInBackground } from './images/disk.ts';
import { isMounted, unmount } from './images/overlay.ts';
import type { LinkAddresses } from './network/addresses.ts';
import { DEFAULT_EGRESS, validateEgressPolicy } from './network/egress.ts';
import { deleteNetns, netnsExists } from './network/netns.ts';
import { pauseStrategy } from './pause/strategies.ts';
import { runtimeClass } from './runtime/classes.ts';
import { MAX_PIDS } from './runtime/oci-spec.ts';
import type { TemplateInfo } from './images/template-store.ts';
import type { EngineRecord } from './sandbox-record.ts';
import { publicState, type SandboxTable } from './sandbox-table.ts';
import { allSettled } from './settle.ts';
import type { CreateSandboxRequest, RuntimeClassName, SandboxInfo, SandboxLimits, VolumeMount } from './types.ts';
import { checkMountPaths } from '../api/volume-mount-path.ts';

/** Below this ext4's journal and the guest's own files leave too little room. */
const MIN_DISK_MIB = 32;
/** The guest daemon, tini and the process factory take ~15 tasks; leave room for real work. */
const MIN_PIDS = 32;

export const newSecret = () => randomBytes(24).toString('hex');

export async function create(t: SandboxTable, req: CreateSandboxRequest): Promise<SandboxInfo> {
  const record = newRecord(t, req, await t.opts.templates.ensure(req.template));
  await materializeCreated(t, record);
  return t.info(record);
}

/** Lays out a new sandbox (directory, disk, network, bundle) that `start` boots later. */
function materializeCreated(t: SandboxTable, record: EngineRecord): Promise<void> {
  return materialize(t, record, async () => {
    await t.setState(record, 'created');
  });
}

/**
 * The record of a new sandbox of `template` as `req` asks for it, every field checked; nothing
 * is made yet. Synchronous: the caller hands it to `materialize` in the same tick, so no other
 * create takes its id or address slot in between. (`templates.ensure` builds shipped templates
 * such as base and busybox on first use.)
 */
export function newRecord(t: SandboxTable, req: CreateSandboxRequest, template: TemplateInfo): EngineRecord {
  const kind = sandboxKind(t, req, template);
  const id = newId(t, req.id);
  const egress = validateEgressPolicy(req.egress ?? DEFAULT_EGRESS);
  validateEnv(req.env ?? {});
  const volumes = validateVolumes(t, kind.runtime, req.volumes ?? []);
  return {
    id,
    ...kind,
    state: 'creating',
    createdAt: new Date().toISOString(),
    slot: t.allocateSlot(),
    env: { ...(req.env ?? {}) },
    egress,
    accessToken: req.accessToken ?? newSecret(),
    initSecret: newSecret(),
    ...(volumes.length > 0 ? { volumes } : {}),
  };
}

/** What a sandbox of `template` runs, as `req` asks for it: the template's build, the runtime and the limits. */
export type SandboxKind = Pick<EngineRecord, 'template' | 'templateBuildId' | 'layers' | 'imageConfig' | 'runtime' | 'runtimeSha256' | 'limits'>;

export function sandboxKind(t: SandboxTable, req: Pick<CreateSandboxRequest, 'runtime' | 'limits'>, template: TemplateInfo): SandboxKind {
  const runtime = req.runtime ?? t.opts.defaultRuntime;
  return {
    template: template.name,
    templateBuildId: template.buildId,
    layers: template.layers,
    imageConfig: template.config,
    runtime,
    runtimeSha256: t.driver(runtime).binarySha256,
    limits: resolveLimits(req.limits, template.resources, t.diskSizes),
  };
}

/** A free, valid sandbox id: the caller's, or a new one. */
export function newId(t: SandboxTable, requested: string | undefined): string {
  const id = requested ?? newSandboxId();
  if (!SANDBOX_ID_RE.test(id)) throw invalidArgument(`sandbox id '${id}' must be 20 characters of a-z and 0-9`);
  if (t.records.has(id)) throw new AgentboxError('already_exists', `sandbox '${id}' already exists`);
  return id;
}

/**
 * Registers a new sandbox and lays out its directory, network and bundle, then runs `finish`
 * (start it, restore it…). Whatever fails, everything made so far is removed and the original
 * error surfaces. The record is registered synchronously by the caller's tick, so its id and
 * address slot are taken before the first await.
 */
export async function materialize(t: SandboxTable, record: EngineRecord, finish: (p: SandboxPaths, link: LinkAddresses) => Promise<void>, seed?: (p: SandboxPaths) => Promise<void>): Promise<void> {
  t.records.set(record.id, record);
  const p = t.paths(record.id);
  const phases = t.phases('create', record.id);
  const disk = t.disk(record);
  let prepared = false;
  try {
    await phases.time('record', async () => {
      // A prepared directory comes with its disk mounted (images/prepared-disks.ts).
      prepared = t.preparedDisks.take(p.dir, disk.sizeMiB);
      if (!prepared) await mkdir(p.dir, { recursive: true });
      await t.store.save(record);
    });
    // The disk (mkfs, then mount, unless prepared) and the network (netns, veth, firewall)
    // share nothing and each waits mostly on child processes, so they are made side by side:
    // ~75 ms less per cold create (BENCHMARKS.md, issue #13). Both are settled before a failure tears them down,
    // so the teardown never races a step still in flight.
    const [, link] = await allSettled([
      phases.time('disk', async () => {
        await attachDisk(disk, { create: true, directIoLater: true });
        if (seed) await seed(p);
      }),
      phases.time('network', () => t.ensureNetwork(record)),
    ]);
    await phases.time('bundle', () => t.prepareBundle(record, link));
    await phases.time('finish', () => finish(p, link));
    if (!prepared) switchToDirectIoInBackground(disk);
    phases.done();
  } catch (err) {
    await teardown(t, record.id, record);
    throw asAgentboxError(err);
  }
}

export async function start(t: SandboxTable, id: string): Promise<SandboxInfo> {
  return t.serialized(id, async () => {
    const r = t.record(id);
    if (r.state !== 'created') throw conflict(`sandbox ${id} is ${publicState(r.state)}; only a created sandbox can be started`);
    return boot(t, r);
  });
}

/** Boots the sandbox's bundle (first start, or resume of a filesystem-only pause). */
export async function boot(t: SandboxTable, r: EngineRecord): Promise<SandboxInfo> {
  const p = t.paths(r.id);
  const phases = t.phases('boot', r.id);
  if (!netnsExists(r.id) || !(await isMounted(p.rootfs))) await phases.time('bundle', async () => t.prepareBundle(r, await t.ensureNetwork(r)));
  await phases.time('address', () => t.addressLink(r));
  t.pids.set(r.id, await phases.time('runtime start', () => t.driver(r.runtime).run(r.id, p.bundle, p.log)));
  await phases.time('record', () => t.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined }));
  await phases.time('guest ready', () => t.waitReady(r));
  phases.done();
  return t.info(r);
}

/** Creates and boots the sandbox `record` describes (from newRecord); a failed boot removes it. */
export async function runNew(t: SandboxTable, record: EngineRecord): Promise<SandboxInfo> {
  await materializeCreated(t, record);
  try {
    return await start(t, record.id);
  } catch (err) {
    await destroy(t, record.id).catch(() => undefined);
    throw asAgentboxError(err);
  }
}

export async function destroy(t: SandboxTable, id: string): Promise<void> {
  return t.serialized(id, async () => {
    const r = t.record(id);
    await t.setState(r, 'destroying');
    await teardown(t, id, r);
  });
}

/** Removes everything a sandbox may have: container, rules, namespace, mount, files. */
export async function teardown(t: SandboxTable, id: string, r: EngineRecord | undefined): Promise<void> {
  t.pids.delete(id);
  t.addressed.delete(id);
  t.dropGuest(id);
  if (r) {
    const driver = t.opts.drivers.get(r.runtime);
    if (driver) {
      await pauseStrategy(driver).release(driver, id);
      await driver.delete(id);
    }
    const link = t.link(r);
    await t.firewall.remove(link);
    await deleteNetns(id, link);
  } else {
    for (const d of t.opts.drivers.values()) await d.delete(id).catch(() => undefined);
  }
  const p = t.paths(id, r?.runtime);
  // A runc sandbox made before runc had user namespaces has its root filesystem at the default
  // place in its directory.
  for (const rootfs of new Set([p.rootfs, sandboxPaths(p.dir).rootfs])) await unmount(rootfs).catch(() => undefined);
  if (r) await runtimeClass(r.runtime).removeRootfs(p.rootfs);
  // Not catching: deleting the directory over a still-mounted disk would fail half-way.
  await detachDisk({ file: p.diskImage, mount: p.disk });
  await detachDisk({ file: p.checkpointImage, mount: p.checkpoint });
  await rm(p.dir, { recursive: true, force: true });
  t.records.delete(id);
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

/** The volumes a create asks for: the runtime class can mount them, each exists, every path is allowed. */
function validateVolumes(t: SandboxTable, runtime: RuntimeClassName, volumes: VolumeMount[]): VolumeMount[] {
  if (volumes.length === 0) return [];
  if (!runtimeClass(runtime).mountsVolumes) throw new AgentboxError('not_supported', `volumes need the gvisor runtime class; the ${runtime} runtime class shifts user ids per sandbox`);
  checkMountPaths(volumes);
  for (const v of volumes) t.volumes.dir(v.volumeId);
  return volumes.map((v) => ({ volumeId: v.volumeId, path: v.path }));
}

export function validateEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw invalidArgument(`environment variable name '${k}' is invalid`);
    if (typeof v !== 'string') throw invalidArgument(`environment variable ${k} must be a string`);
  }
}
