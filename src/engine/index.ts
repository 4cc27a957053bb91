/**
 * Composition root of the single-node engine: runtime classes → drivers, guest bundle,
 * template store, network plan, and the engine itself.
 *
 * @example
 *   const { engine, templates } = await createEngine({ home: '/var/lib/agentbox' });
 *   await templates.ensure('base');
 *   const sbx = await engine.run({ template: 'base' });
 *   console.log((await engine.exec(sbx.id, { cmd: ['uname', '-a'] })).stdout);
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AgentboxError } from '../api/errors.ts';
import { ensureGuestBundle, type EnsureGuestBundleOptions, type GuestBundle } from '../envd/bundle.ts';
import { ensureNativeGuestBundle, locateNativeGuest } from '../envd/native-bundle.ts';
import { sandboxedStepRunner } from './build-steps.ts';
import type { DiskOptions, NetworkOptions } from './engine-options.ts';
import { LocalEngine } from './engine.ts';
import { ensurePrivateDir } from './fsutil.ts';
import type { BuildPolicy } from './images/build-policy.ts';
import { parseAllowPrivate } from './network/floor.ts';
import { TemplateStore } from './images/template-store.ts';
import type { RuntimeDriver } from './runtime/driver.ts';
import { createDriver, defaultCacheDir, loadRuntimeClasses, type RuntimeClassConfig } from './runtime/runtime-classes.ts';
import { RUNTIME_CLASS_NAMES, type RuntimeClassName } from './types.ts';
import type { PhaseReport } from './phase-times.ts';

export type { Engine } from './types.ts';
export { LocalEngine } from './engine.ts';
export type { PhaseReport } from './phase-times.ts';
export { TemplateStore } from './images/template-store.ts';

export interface CreateEngineOptions {
  /** State directory (AGENTBOX_HOME); default ~/.agentbox. */
  home?: string;
  /** Download/build cache shared by every home; default ~/.cache/agentbox. */
  cacheDir?: string;
  /** Overrides `<home>/runtimes.json`. */
  runtimeClasses?: RuntimeClassConfig[];
  defaultRuntime?: RuntimeClassName;
  network?: Partial<NetworkOptions>;
  /** Default and largest size of a sandbox's disk (default 10 GiB and 100 GiB). */
  disk?: Partial<DiskOptions>;
  readyTimeoutMs?: number;
  /** What template builds may touch and how long they may take (default: from the environment, see build-policy.ts). */
  templates?: Partial<BuildPolicy>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  onProgress?: (msg: string) => void;
  /** Receives the duration of each step of a create, boot, pause and resume (engine-options.ts). */
  onPhases?: PhaseReport;
  /** Golden snapshots kept (engine-options.ts); default AGENTBOX_GOLDEN_SNAPSHOTS, else 8; 0 turns them off. */
  goldenSnapshots?: number;
  /** Which guest daemon sandboxes run; default AGENTBOX_GUEST, else `native` where it can be built (see GuestKind). */
  guest?: GuestKind;
}

/**
 * `native`: the guest in crates/guest, one static executable (envd/native-bundle.ts), in a
 * fraction of the memory (BENCHMARKS.md, twenty-seventh round). `typescript`: the guest in
 * src/guest, on the bundle's own Node (envd/bundle.ts), which Kubernetes pods run
 * (images/oci-export.ts) since it also serves the agent-sandbox in-pod runtime.
 */
export const GUEST_KINDS = ['typescript', 'native'] as const;
export type GuestKind = (typeof GUEST_KINDS)[number];

export interface EngineRuntimeReport {
  name: RuntimeClassName;
  binary: string;
  sha256: string;
  platform?: string;
  /** gVisor on systrap: whether its threads may spin waiting for each other (runtime-class.ts SystrapFastPath). */
  systrapFastPath?: string;
  pauseMode: string;
}

export interface CreatedEngine {
  engine: LocalEngine;
  templates: TemplateStore;
  /** The usable runtime classes' drivers (benchmarks use them for same-run baselines). */
  drivers: ReadonlyMap<RuntimeClassName, RuntimeDriver>;
  runtimes: EngineRuntimeReport[];
  /** Runtime classes configured but not usable here, with the reason. */
  unavailable: { name: string; reason: string }[];
  home: string;
}

/** AGENTBOX_GOLDEN_SNAPSHOTS: how many golden snapshots to keep (0: none); unset, the engine's default. */
function goldenSnapshotsFromEnv(): number | undefined {
  const raw = process.env.AGENTBOX_GOLDEN_SNAPSHOTS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new AgentboxError('invalid_argument', `AGENTBOX_GOLDEN_SNAPSHOTS must be a whole number (0 turns golden snapshots off), not '${raw}'`);
  return n;
}

function guestKindFromEnv(): GuestKind | undefined {
  const raw = process.env.AGENTBOX_GUEST;
  if (raw === undefined || raw === '') return undefined;
  if ((GUEST_KINDS as readonly string[]).includes(raw)) return raw as GuestKind;
  throw new AgentboxError('invalid_argument', `AGENTBOX_GUEST must be one of ${GUEST_KINDS.join(', ')}, not '${raw}'`);
}

/**
 * The guest asked for, else the native one where it is built or cargo can build it, else the
 * TypeScript one, saying why: a machine without Rust still runs sandboxes.
 */
function ensureGuest(requested: GuestKind | undefined, opts: EnsureGuestBundleOptions): Promise<GuestBundle> {
  const kind = requested ?? guestKindFromEnv();
  if (kind === 'typescript') return ensureGuestBundle(opts);
  const native = locateNativeGuest(opts);
  if (kind === 'native' || native.built || native.cargo) return ensureNativeGuestBundle(opts, native);
  opts.onProgress?.('sandboxes run the TypeScript guest: the native one (crates/guest) is not built and there is no cargo to build it; install Rust 1.88 or later with rustup for about half the memory per sandbox');
  return ensureGuestBundle(opts);
}

export const defaultHome = () => process.env.AGENTBOX_HOME ?? join(homedir(), '.agentbox');

/** The first nameserver of the host's resolv.conf: where the sandboxes' DNS proxy forwards. */
export function hostResolver(): string {
  try {
    const m = /^nameserver\s+([0-9.]+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // fall through
  }
  return '127.0.0.1';
}

export const DEFAULT_NETWORK: NetworkOptions = {
  subnet: '10.213.0.0/16',
  ifacePrefix: 'abx',
  table: 'agentbox',
  dnsPort: 10053,
  dnsUpstream: '',
  nat: true,
  allowPrivate: [],
};

/** The usable runtime classes' drivers (most preferred first in `available`) and why the others are not. */
async function createDrivers(home: string, cacheDir: string, configured?: RuntimeClassConfig[]) {
  await ensurePrivateDir(cacheDir);
  const classes = configured ?? await loadRuntimeClasses(home, cacheDir);
  const drivers = new Map<RuntimeClassName, RuntimeDriver>();
  const unavailable: { name: string; reason: string }[] = [];
  for (const c of classes) {
    try {
      drivers.set(c.name, await createDriver(c, cacheDir, join(home, 'run')));
    } catch (err) {
      unavailable.push({ name: c.name, reason: (err as Error).message });
    }
  }
  // The most preferred class this host runs; with none, callers name the last in line.
  return { drivers, unavailable, available: RUNTIME_CLASS_NAMES.filter((n) => drivers.has(n)) };
}

/**
 * The template store alone, without the engine's network, DNS proxy or recovery, for work
 * beside a running server such as `agentbox template export`. Builds run under the most
 * preferred runtime class this host has.
 */
export async function openTemplateStore(opts: Pick<CreateEngineOptions, 'home' | 'cacheDir' | 'runtimeClasses' | 'templates'> = {}): Promise<TemplateStore> {
  const home = opts.home ?? defaultHome();
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const { drivers, unavailable, available } = await createDrivers(home, cacheDir, opts.runtimeClasses);
  const runSteps = sandboxedStepRunner(() => {
    const driver = available[0] && drivers.get(available[0]);
    if (driver) return driver;
    throw new AgentboxError('unavailable', `no runtime class can run template build steps here (${unavailable.map((u) => `${u.name}: ${u.reason}`).join('; ')})`);
  });
  return new TemplateStore({ home, cacheDir, runSteps, policy: opts.templates });
}

export async function createEngine(opts: CreateEngineOptions = {}): Promise<CreatedEngine> {
  const home = opts.home ?? defaultHome();
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const { drivers, unavailable, available } = await createDrivers(home, cacheDir, opts.runtimeClasses);
  const defaultRuntime = opts.defaultRuntime ?? available[0] ?? RUNTIME_CLASS_NAMES.at(-1)!;
  if (!drivers.has(defaultRuntime)) {
    const why = unavailable.map((u) => `${u.name}: ${u.reason}`).join('; ') || 'none is configured';
    throw new AgentboxError('unavailable', `runtime class '${defaultRuntime}' is not available (${why}). Run 'agentbox doctor' and 'npm run setup'.`);
  }
  const guest = await ensureGuest(opts.guest, { cacheDir: join(cacheDir, 'guest'), onProgress: opts.onProgress });
  // Template builds run under the most preferred class available (the check above ensures one).
  const templates = new TemplateStore({ home, cacheDir, runSteps: sandboxedStepRunner(() => drivers.get(available[0]!)!), policy: opts.templates });
  const network: NetworkOptions = {
    ...DEFAULT_NETWORK,
    dnsUpstream: hostResolver(),
    ...opts.network,
    // The operator's lift of the egress floor; tenants cannot change it.
    allowPrivate: parseAllowPrivate(opts.network?.allowPrivate ?? process.env.AGENTBOX_EGRESS_ALLOW_PRIVATE),
  };
  const engine = new LocalEngine({
    home,
    drivers,
    defaultRuntime,
    templates,
    guest,
    network,
    disk: opts.disk,
    readyTimeoutMs: opts.readyTimeoutMs,
    log: opts.log,
    onPhases: opts.onPhases,
    goldenSnapshots: opts.goldenSnapshots ?? goldenSnapshotsFromEnv(),
  });
  await engine.init();
  return {
    engine,
    templates,
    drivers,
    home,
    unavailable,
    runtimes: [...drivers.values()].map((d) => ({ name: d.name, binary: d.binary, sha256: d.binarySha256, platform: d.platform, systrapFastPath: d.systrapFastPath, pauseMode: d.pauseMode })),
  };
}
