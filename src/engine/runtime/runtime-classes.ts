/**
 * Runtime classes: a name (`gvisor`, `runc`) bound to a pinned binary per architecture.
 * The configuration lives in `<home>/runtimes.json`; when absent it is written once from what
 * this host has (the runsc built by scripts/build-runsc.sh, else Debian's runsc; Debian's
 * runc), pinning the sha256 of each binary as found at that moment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import type { RuntimeClassName } from '../types.ts';
import { fetchAsset, sha256OfFile, type Asset } from './assets.ts';
import { detectAppArmor, loadRuncProfile } from './apparmor.ts';
import { RuntimeDriver, type GvisorPlatform } from './driver.ts';
import { ensureIdmapHelper, probeIdmappedOverlay } from './userns.ts';

const AssetSchema = z.object({ url: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const RuntimeClassSchema = z.object({
  name: z.enum(['gvisor', 'runc']),
  /** Keyed by Node's process.arch (x64, arm64). */
  assets: z.record(z.string(), AssetSchema),
  /** gvisor only: 'auto' picks systrap when it works here, else ptrace. */
  platform: z.enum(['auto', 'systrap', 'ptrace', 'kvm']).default('auto'),
});
export type RuntimeClassConfig = z.infer<typeof RuntimeClassSchema>;

const RuntimeClassesFileSchema = z.object({ runtimeClasses: z.array(RuntimeClassSchema) });

export const defaultCacheDir = () => process.env.AGENTBOX_CACHE ?? join(homedir(), '.cache', 'agentbox');

/** The newest runsc built by scripts/build-runsc.sh, if any. */
function builtRunsc(cacheDir: string): { path: string; sha256: string } | undefined {
  const dir = join(cacheDir, 'runsc');
  if (!existsSync(dir)) return undefined;
  for (const version of readdirSync(dir).sort().reverse()) {
    const path = join(dir, version, 'runsc');
    const shaFile = join(dir, version, 'runsc.sha256');
    if (existsSync(path) && existsSync(shaFile)) return { path, sha256: readFileSync(shaFile, 'utf8').trim() };
  }
  return undefined;
}

async function localAsset(path: string): Promise<Asset> {
  return { url: pathToFileURL(path).href, sha256: await sha256OfFile(path) };
}

/** What this host offers, pinned now. Missing runtimes are left out (doctor reports them). */
export async function discoverRuntimeClasses(cacheDir: string): Promise<RuntimeClassConfig[]> {
  const out: RuntimeClassConfig[] = [];
  const built = builtRunsc(cacheDir);
  const debianRunsc = ['/usr/bin/runsc', '/usr/sbin/runsc'].find(existsSync);
  if (built) out.push({ name: 'gvisor', assets: { [process.arch]: { url: pathToFileURL(built.path).href, sha256: built.sha256 } }, platform: 'auto' });
  else if (debianRunsc) out.push({ name: 'gvisor', assets: { [process.arch]: await localAsset(debianRunsc) }, platform: 'auto' });
  const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find(existsSync);
  if (runc) out.push({ name: 'runc', assets: { [process.arch]: await localAsset(runc) }, platform: 'auto' });
  return out;
}

export async function loadRuntimeClasses(home: string, cacheDir: string): Promise<RuntimeClassConfig[]> {
  const file = join(home, 'runtimes.json');
  if (existsSync(file)) {
    const parsed = RuntimeClassesFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new AgentboxError('invalid_argument', `${file} is not a valid runtime class file: ${parsed.error.message}`);
    return parsed.data.runtimeClasses;
  }
  const discovered = await discoverRuntimeClasses(cacheDir);
  await mkdir(home, { recursive: true });
  await writeFile(file, JSON.stringify({ runtimeClasses: discovered }, null, 2) + '\n');
  return discovered;
}

/** Whether gVisor's systrap platform can run a sandbox on this host (ptrace always can, slowly). */
export async function probePlatform(binary: string, stateDir: string, platform: GvisorPlatform): Promise<boolean> {
  try {
    await runCommand(binary, ['--root', join(stateDir, 'probe'), `--platform=${platform}`, '--network=none', 'do', '/bin/true'], { timeoutMs: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export async function createDriver(config: RuntimeClassConfig, cacheDir: string, stateDir: string): Promise<RuntimeDriver> {
  const asset = config.assets[process.arch];
  if (!asset) {
    throw new AgentboxError('not_supported', `runtime class ${config.name} has no asset for architecture ${process.arch}`);
  }
  const binary = await fetchAsset(asset, join(cacheDir, 'assets'));
  const runtimeState = join(stateDir, config.name);
  await mkdir(runtimeState, { recursive: true });
  let platform: GvisorPlatform | undefined;
  if (config.name === 'gvisor') {
    platform = config.platform === 'auto'
      ? ((await probePlatform(binary, runtimeState, 'systrap')) ? 'systrap' : 'ptrace')
      : config.platform;
    return new RuntimeDriver({ name: 'gvisor', binary, binarySha256: asset.sha256, stateDir: runtimeState, platform });
  }
  return new RuntimeDriver({ name: 'runc', binary, binarySha256: asset.sha256, stateDir: runtimeState, ...await runcHardening(cacheDir, runtimeState) });
}

/**
 * What makes runc a boundary (see userns.ts, apparmor.ts): without idmapped mounts the class is
 * unavailable rather than silently weaker; without AppArmor it runs with user namespaces and
 * seccomp only.
 */
async function runcHardening(cacheDir: string, stateDir: string): Promise<{ idmapHelper: string; apparmorProfile?: string }> {
  const idmapHelper = await ensureIdmapHelper(cacheDir);
  try {
    await probeIdmappedOverlay(idmapHelper, stateDir);
  } catch (err) {
    throw new AgentboxError('not_supported', `runc sandboxes need idmapped overlay layers (Linux 6.8 or newer): ${(err as Error).message}`);
  }
  const apparmor = detectAppArmor();
  return { idmapHelper, apparmorProfile: apparmor.available ? await loadRuncProfile(apparmor, join(cacheDir, 'apparmor')) : undefined };
}
