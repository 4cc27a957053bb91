/**
 * What a template build may touch on the host, set by the admin (engine options or environment):
 * the one directory `from: {oci: {path}}` imports from, the Debian mirrors a recipe may name,
 * and how long a run step and a whole build may take. Builds run root tools (mmdebstrap, skopeo,
 * umoci) on recipe input, so every host-side input of a recipe passes through here first.
 */
import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { join, sep } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { FLOOR_V4 } from '../network/floor.ts';

export interface BuildPolicy {
  /** `from: {oci: {path}}` must resolve (realpath) inside this directory. */
  importDir: string;
  /** Host names a recipe's `debian.mirror` may point at. */
  mirrorHosts: string[];
  /** Largest OCI archive or layout that may be imported or uploaded. */
  maxImportBytes: number;
  stepTimeoutMs: number;
  buildTimeoutMs: number;
}

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** Hosts of the mirrors the host's own apt uses (sources.list and deb822 .sources), plus deb.debian.org. */
export function hostAptMirrors(aptDir = '/etc/apt'): string[] {
  const hosts = new Set(['deb.debian.org']);
  const files = [join(aptDir, 'sources.list')];
  const d = join(aptDir, 'sources.list.d');
  if (existsSync(d)) files.push(...readdirSync(d).filter((f) => /\.(list|sources)$/.test(f)).map((f) => join(d, f)));
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line.trimStart().startsWith('#')) continue;
      for (const m of line.matchAll(/\bhttps?:\/\/([^/\s:]+)/g)) hosts.add(m[1]!.toLowerCase());
    }
  }
  return [...hosts].sort();
}

const seconds = (v: string | undefined, fallback: number) => (v && Number(v) > 0 ? Number(v) * 1000 : fallback);

/**
 * The policy from the environment, for `agentbox up`: AGENTBOX_TEMPLATE_IMPORT_DIR (default
 * `<home>/imports`), AGENTBOX_DEBIAN_MIRRORS (comma-separated hosts; default the host's apt
 * mirrors), AGENTBOX_BUILD_STEP_TIMEOUT_S (600), AGENTBOX_BUILD_TIMEOUT_S (3600),
 * AGENTBOX_MAX_IMPORT_MB (4096).
 */
export function buildPolicyFromEnv(home: string, env: NodeJS.ProcessEnv = process.env): BuildPolicy {
  return {
    importDir: env.AGENTBOX_TEMPLATE_IMPORT_DIR || join(home, 'imports'),
    mirrorHosts: env.AGENTBOX_DEBIAN_MIRRORS ? env.AGENTBOX_DEBIAN_MIRRORS.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean) : hostAptMirrors(),
    maxImportBytes: (Number(env.AGENTBOX_MAX_IMPORT_MB) > 0 ? Number(env.AGENTBOX_MAX_IMPORT_MB) : 4096) * 1024 * 1024,
    stepTimeoutMs: seconds(env.AGENTBOX_BUILD_STEP_TIMEOUT_S, 600_000),
    buildTimeoutMs: seconds(env.AGENTBOX_BUILD_TIMEOUT_S, 3_600_000),
  };
}

/** What a timeout error tells the user to change. */
export const TIMEOUT_HINT = 'make the step faster, or ask the admin to raise AGENTBOX_BUILD_STEP_TIMEOUT_S / AGENTBOX_BUILD_TIMEOUT_S (engine option templates.stepTimeoutMs / buildTimeoutMs)';

const denied = new BlockList();
for (const cidr of FLOOR_V4) {
  const [net, bits] = cidr.split('/');
  denied.addSubnet(net!, Number(bits), 'ipv4');
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fe80::', 10], ['fc00::', 7], ['ff00::', 8]] as const) denied.addSubnet(net, bits, 'ipv6');

function internalAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return denied.check(mapped[1]!, 'ipv4');
  return denied.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A recipe's mirror: http(s), a host on the admin's allow list, and no loopback, link-local or
 * private address (literal or resolved), since mmdebstrap fetches it as root from the host.
 */
export async function checkMirror(mirror: string, policy: BuildPolicy): Promise<void> {
  const refuse = (why: string) => new AgentboxError('invalid_argument', `from.debian.mirror ${JSON.stringify(mirror)} is refused: ${why}`, {
    details: { mirror, allowedHosts: policy.mirrorHosts },
  });
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw refuse('it is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('only http:// and https:// mirrors are allowed');
  if (url.username || url.password) throw refuse('credentials in the URL are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(host) && internalAddress(host)) throw refuse('it points at a loopback, link-local or private address');
  if (!policy.mirrorHosts.includes(host)) {
    throw refuse(`host '${host}' is not on the mirror allow list (${policy.mirrorHosts.join(', ') || 'empty'}); use one of those, or ask the admin to add it to AGENTBOX_DEBIAN_MIRRORS`);
  }
  const addrs = isIP(host) ? [{ address: host }] : await lookup(host, { all: true }).catch(() => []);
  if (addrs.some((a) => internalAddress(a.address))) throw refuse(`host '${host}' resolves to a loopback, link-local or private address`);
}

/**
 * The real path of an import inside the import directory: refuses paths outside it (after
 * resolving symlinks), and anything but regular files and directories inside, and imports larger
 * than the cap. Errors name the import directory, never whether a path outside it exists.
 */
export async function resolveImportPath(path: string, policy: BuildPolicy): Promise<string> {
  const outside = () => new AgentboxError('invalid_argument',
    `from.oci.path must name an OCI layout or archive inside the import directory ${policy.importDir}; ask the admin to place it there, or upload it (POST /v1/templates/{name}/oci)`,
    { details: { path, importDir: policy.importDir } });
  const root = await realpath(policy.importDir).catch(() => undefined);
  if (!root) throw outside();
  const real = await realpath(path).catch(() => undefined);
  if (!real || (real !== root && !real.startsWith(root + sep)) || real === root) throw outside();
  const size = await treeSize(real);
  if (size > policy.maxImportBytes) {
    throw new AgentboxError('invalid_argument', `the import at ${path} holds ${size} bytes, more than the limit of ${policy.maxImportBytes} (AGENTBOX_MAX_IMPORT_MB)`, { details: { path, size } });
  }
  return real;
}

/** Bytes of regular files under `path`; refuses symlinks, FIFOs, sockets and devices anywhere in it. */
async function treeSize(path: string): Promise<number> {
  const st = await lstat(path);
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) {
    throw new AgentboxError('invalid_argument', `${path} is neither a regular file nor a directory: an import is an OCI layout directory or an archive file`);
  }
  let total = 0;
  for (const e of await readdir(path)) total += await treeSize(join(path, e));
  return total;
}
