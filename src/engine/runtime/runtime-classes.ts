/**
 * Runtime classes: a name (`gvisor`, `runc`) bound to a pinned binary per architecture.
 * The configuration lives in `<home>/runtimes.json`; when absent it is written once from what
 * this host has (the runsc built by scripts/build-runsc.sh, else Debian's runsc; Debian's
 * runc), pinning the sha256 of each binary as found at that moment.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentboxError } from '../../api/errors.ts';
import { RUNTIME_CLASS_NAMES } from '../types.ts';
import { fetchAsset } from './assets.ts';
import { runtimeClass } from './classes.ts';
import { RuntimeDriver } from './driver.ts';

const AssetSchema = z.object({ url: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const RuntimeClassSchema = z.object({
  name: z.enum(RUNTIME_CLASS_NAMES),
  /** Keyed by Node's process.arch (x64, arm64). */
  assets: z.record(z.string(), AssetSchema),
  /** gvisor only: 'auto' picks systrap when it works here, else ptrace. */
  platform: z.enum(['auto', 'systrap', 'ptrace', 'kvm']).default('auto'),
  /** gvisor on systrap only (runtime-class.ts SystrapFastPath): 'auto' is off on hosts with two CPUs or fewer. */
  systrapFastPath: z.enum(['auto', 'adaptive', 'off']).default('auto'),
});
export type RuntimeClassConfig = z.infer<typeof RuntimeClassSchema>;

const RuntimeClassesFileSchema = z.object({ runtimeClasses: z.array(RuntimeClassSchema) });

export const defaultCacheDir = () => process.env.AGENTBOX_CACHE ?? join(homedir(), '.cache', 'agentbox');

/** What this host offers, pinned now. Missing runtimes are left out (doctor reports them). */
export async function discoverRuntimeClasses(cacheDir: string): Promise<RuntimeClassConfig[]> {
  const out: RuntimeClassConfig[] = [];
  for (const name of RUNTIME_CLASS_NAMES) {
    const asset = await runtimeClass(name).discover(cacheDir);
    if (asset) out.push({ name, assets: { [process.arch]: asset }, platform: 'auto', systrapFastPath: 'auto' });
  }
  return out;
}
export const runtimeClassesFile = (home: string) => join(home, 'runtimes.json');

/** The runtime classes `home` has pinned, or undefined before its first start. */
export async function pinnedRuntimeClasses(home: string): Promise<RuntimeClassConfig[] | undefined> {
  const file = runtimeClassesFile(home);
  if (!existsSync(file)) return undefined;
  const parsed = RuntimeClassesFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new AgentboxError('invalid_argument', `${file} is not a valid runtime class file: ${parsed.error.message}`);
  return parsed.data.runtimeClasses;
}

/** The classes `home` pinned; at its first start, what this host offers, pinned from then on. */
export async function loadRuntimeClasses(home: string, cacheDir: string): Promise<RuntimeClassConfig[]> {
  const pinned = await pinnedRuntimeClasses(home);
  if (pinned) return pinned;
  const discovered = await discoverRuntimeClasses(cacheDir);
  await mkdir(home, { recursive: true });
  await writeFile(runtimeClassesFile(home), JSON.stringify({ runtimeClasses: discovered }, null, 2) + '\n');
  return discovered;
}

export async function createDriver(config: RuntimeClassConfig, cacheDir: string, stateDir: string): Promise<RuntimeDriver> {
  const asset = config.assets[process.arch];
  if (!asset) {
    throw new AgentboxError('not_supported', `runtime class ${config.name} has no asset for architecture ${process.arch}`);
  }
  const binary = await fetchAsset(asset, join(cacheDir, 'assets'));
  const runtimeState = join(stateDir, config.name);
  await mkdir(runtimeState, { recursive: true });
  const setup = await runtimeClass(config.name).setup({ binary, cacheDir, stateDir: runtimeState, platform: config.platform, systrapFastPath: config.systrapFastPath });
  return new RuntimeDriver({ name: config.name, binary, binarySha256: asset.sha256, stateDir: runtimeState, ...setup });
}
