/**
 * Builds the self-contained guest directory that the engine bind-mounts read-only at
 * /opt/agentbox in every sandbox, whatever its image (glibc, musl, busybox, no Node):
 *
 *   guest.cjs, guest-code.js        the guest daemon: an entry and one esbuild bundle (guest/code-cache.ts)
 *   guest-code.cache                V8's code cache of the guest's start, made by running it once here
 *   bin/node, bin/tini              the host's node binary; Debian's static tini (PID 1, reaps orphans)
 *   lib/*.so*, lib/ld-linux-*.so.2  every library `ldd` lists for node and the two addons
 *   node_modules/node-pty/          the PTY addon (JS + pty.node), loaded by the guest on demand
 *   node_modules/@napi-rs/xattr-*   the xattr addon that keeps files' metadata (guest/filesystem/metadata.ts)
 *   manifest.json                   written last: hash, envd version, argv
 *
 * node starts through the bundled loader with --library-path, so the image's libc is never used.
 * Cached by content hash under ~/.cache/agentbox/guest/<hash>/; a build goes to a temp dir and is
 * renamed into place, so concurrent callers never see half a bundle.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AgentboxError } from '../api/errors.ts';
import { ENVD_VERSION } from '../guest/version.ts';
import type { GuestConfigInput } from '../guest/config.ts';
import {
  GUEST_CODE, GUEST_CODE_BANNER, GUEST_CODE_FOOTER, GUEST_CODE_IMPORT_META_URL, GUEST_ENTRY, WRITE_CODE_CACHE_ENV, XATTR_ADDON_PACKAGE,
} from '../api/guest-bundle.ts';

export interface GuestBundle {
  dir: string;
  hash: string;
  /** PID-1 command line, in /opt/agentbox paths. */
  argv: string[];
  envdVersion: string;
}

export interface EnsureGuestBundleOptions {
  cacheDir?: string;
  onProgress?: (msg: string) => void;
}

/** Where the guest bundle is mounted read-only in every sandbox (src/engine/bundle.ts) and pod. */
export const GUEST_MOUNT = '/opt/agentbox';
export const TINI_STATIC = '/usr/bin/tini-static';
const LAUNCHER_SOURCE = fileURLToPath(new URL('../guest/native/launcher.c', import.meta.url));
const MAIN = fileURLToPath(new URL('../guest/main.ts', import.meta.url));
const ENTRY = fileURLToPath(new URL('../guest/entry.ts', import.meta.url));
/** Writing the code cache runs the guest's start once; far longer means it hangs. */
const CODE_CACHE_TIMEOUT_MS = 30_000;

export function defaultGuestCacheDir(): string {
  return join(homedir(), '.cache', 'agentbox', 'guest');
}

/** Libraries from `ldd` output: [name inside the bundle, host path]. */
export function parseLdd(output: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of output.split('\n')) {
    const arrow = /^\s*(\S+)\s+=>\s+(\/\S+)\s+\(/.exec(line);
    if (arrow) { out.push([arrow[1]!, arrow[2]!]); continue; }
    const direct = /^\s*(\/\S+)\s+\(/.exec(line); // the loader itself
    if (direct) out.push([basename(direct[1]!), direct[1]!]);
  }
  return out;
}

function sharedLibraries(binaries: string[]): Map<string, string> {
  const libs = new Map<string, string>();
  for (const bin of binaries) {
    let output: string;
    try {
      output = execFileSync('ldd', [bin], { encoding: 'utf8' });
    } catch (err) {
      throw new AgentboxError('not_supported', `ldd ${bin} failed; the guest bundle needs glibc's ldd on the host`, { cause: err });
    }
    for (const [name, path] of parseLdd(output)) libs.set(name, path);
  }
  return libs;
}

function loaderName(libs: Map<string, string>): string {
  const name = [...libs.keys()].find((n) => n.startsWith('ld-linux'));
  if (!name) throw new AgentboxError('not_supported', 'ldd lists no ld-linux loader for node; a dynamically linked glibc node is required');
  return name;
}

/** The PID-1 argv for a bundle whose loader is `loader`. */
export function guestArgv(loader: string): string[] {
  return [
    `${GUEST_MOUNT}/bin/tini`, '-s', '-g', '--',
    `${GUEST_MOUNT}/lib/${loader}`, '--library-path', `${GUEST_MOUNT}/lib`,
    `${GUEST_MOUNT}/bin/node`, `${GUEST_MOUNT}/${GUEST_ENTRY}`,
  ];
}

interface GuestCodeFiles {
  entry: Uint8Array;
  code: Uint8Array;
}

/** The entry (guest.cjs) and the daemon as one function expression (guest-code.js; code-cache.ts). */
async function bundleGuest(): Promise<GuestCodeFiles> {
  const esbuild = await import('esbuild');
  const common = {
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, legalComments: 'none', logLevel: 'silent',
  } as const;
  const [entry, code] = await Promise.all([
    esbuild.build({ ...common, entryPoints: [ENTRY] }),
    esbuild.build({
      ...common,
      entryPoints: [MAIN],
      banner: { js: GUEST_CODE_BANNER },
      footer: { js: GUEST_CODE_FOOTER },
      define: { 'import.meta.url': GUEST_CODE_IMPORT_META_URL },
    }),
  ]);
  return { entry: entry.outputFiles[0]!.contents, code: code.outputFiles[0]!.contents };
}

/**
 * Writes guest-code.cache into the bundle being built in `dir` by starting the guest there once
 * (loopback, free ports, no start command) with node's bare environment: the sandbox passes
 * node no options either, and V8 rejects a cache made under other flags. Without it the guest
 * compiles as before, only slower.
 */
function writeCodeCache(dir: string, nodeBin: string, progress: (msg: string) => void): void {
  const work = mkdtempSync(join(tmpdir(), 'agentbox-guest-cache-'));
  try {
    const config: GuestConfigInput = { port: 0, execdPort: 0, host: '127.0.0.1', initSecret: randomUUID() };
    writeFileSync(join(work, 'config.json'), JSON.stringify(config));
    execFileSync(nodeBin, [join(dir, GUEST_ENTRY)], {
      env: { AGENTBOX_GUEST_CONFIG: join(work, 'config.json'), [WRITE_CODE_CACHE_ENV]: '1' },
      stdio: 'pipe',
      timeout: CODE_CACHE_TIMEOUT_MS,
    });
  } catch (err) {
    progress(`no code cache in this bundle (starting the guest failed: ${(err as Error).message.split('\n')[0]}); sandboxes start slower`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve(`${name}/package.json`));
}

/** The xattr addon's package: its package.json names the .node file as `main`. */
function xattrAddon(): { dir: string; file: string } {
  let dir: string;
  try {
    dir = packageDir(XATTR_ADDON_PACKAGE);
  } catch (err) {
    throw new AgentboxError('not_supported', `${XATTR_ADDON_PACKAGE} is not installed (npm installs @napi-rs/xattr's build for this machine); run: npm ci`, { cause: err });
  }
  const main = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string }).main;
  return { dir, file: join(dir, main) };
}

/**
 * Compiles the static process factory (native/launcher.c). Without a C compiler the bundle goes
 * without it: the guest then forks itself for every process (~8 ms with its event loop blocked,
 * under gVisor), and programs get sockets for stdin/stdout/stderr, which cannot be reopened as
 * /dev/stdout.
 */
function buildLauncher(out: string, progress: (msg: string) => void): void {
  try {
    execFileSync('gcc', ['-static', '-O2', '-o', out, LAUNCHER_SOURCE], { stdio: 'pipe' });
  } catch (err) {
    progress(`no process factory in this bundle (gcc -static failed: ${(err as Error).message.split('\n')[0]}); install gcc and libc6-dev for faster process starts and pipes as standard streams`);
  }
}

/**
 * Builds a guest directory into `dir`: `fill` writes its files into a temp dir beside it, the
 * manifest goes in last, and a rename puts the whole in place, so a caller never sees half a
 * bundle and two building the same one at once both end with it.
 */
export function publishGuestDir(dir: string, manifest: object, fill: (tmp: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process finished the same bundle first: theirs is identical.
      if (!existsSync(join(dir, 'manifest.json'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function ensureGuestBundle(opts: EnsureGuestBundleOptions = {}): Promise<GuestBundle> {
  const progress = opts.onProgress ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultGuestCacheDir();
  const nodeBin = realpathSync(process.execPath);
  const ptyDir = packageDir('node-pty');
  const ptyAddon = join(ptyDir, 'build', 'Release', 'pty.node');
  if (!existsSync(ptyAddon)) {
    throw new AgentboxError('not_supported', `node-pty's addon is not built (${ptyAddon}); run: npm install-scripts approve node-pty && npm rebuild node-pty`);
  }
  if (!existsSync(TINI_STATIC)) {
    throw new AgentboxError('not_supported', `${TINI_STATIC} is missing; install the Debian package tini`);
  }
  const xattr = xattrAddon();
  const { entry, code } = await bundleGuest();
  const libs = sharedLibraries([nodeBin, ptyAddon, xattr.file]);
  const loader = loaderName(libs);
  // The node binary (~100 MB) is identified by version, path, size and mtime instead of its
  // bytes: hashing it would add ~0.3 s to every call on the engine's start path.
  const nodeStat = statSync(nodeBin);
  const h = createHash('sha256')
    .update(ENVD_VERSION).update('\0')
    .update(entry).update('\0')
    .update(code).update('\0')
    .update(`${process.version}:${nodeBin}:${nodeStat.size}:${nodeStat.mtimeMs}`).update('\0')
    .update(readFileSync(ptyAddon)).update('\0')
    .update(readFileSync(xattr.file)).update('\0')
    .update(readFileSync(TINI_STATIC)).update('\0')
    .update(readFileSync(LAUNCHER_SOURCE)).update('\0');
  for (const [name, path] of [...libs].sort()) {
    const st = statSync(path);
    h.update(`${name}:${path}:${st.size}:${st.mtimeMs}\0`);
  }
  const hash = h.digest('hex').slice(0, 16);
  const dir = join(cacheDir, hash);
  const argv = guestArgv(loader);
  const bundle: GuestBundle = { dir, hash, argv, envdVersion: ENVD_VERSION };
  if (existsSync(join(dir, 'manifest.json'))) return bundle;

  progress(`building guest bundle ${hash}`);
  publishGuestDir(dir, { hash, envdVersion: ENVD_VERSION, argv, node: process.version }, (tmp) => {
    mkdirSync(join(tmp, 'bin'));
    mkdirSync(join(tmp, 'lib'));
    writeFileSync(join(tmp, GUEST_ENTRY), entry);
    writeFileSync(join(tmp, GUEST_CODE), code);
    copyFileSync(nodeBin, join(tmp, 'bin', 'node'));
    copyFileSync(TINI_STATIC, join(tmp, 'bin', 'tini'));
    chmodSync(join(tmp, 'bin', 'node'), 0o755);
    chmodSync(join(tmp, 'bin', 'tini'), 0o755);
    buildLauncher(join(tmp, 'bin', 'agentbox-launcher'), progress);
    // copyFileSync follows symlinks: each library lands as a real file under its soname.
    for (const [name, path] of libs) copyFileSync(path, join(tmp, 'lib', name));
    const ptyOut = join(tmp, 'node_modules', 'node-pty');
    mkdirSync(join(ptyOut, 'build', 'Release'), { recursive: true });
    copyFileSync(join(ptyDir, 'package.json'), join(ptyOut, 'package.json'));
    copyFileSync(ptyAddon, join(ptyOut, 'build', 'Release', 'pty.node'));
    cpSync(join(ptyDir, 'lib'), join(ptyOut, 'lib'), {
      recursive: true,
      filter: (src) => !/\.(test\.js|map)$/.test(src),
    });
    const xattrOut = join(tmp, 'node_modules', XATTR_ADDON_PACKAGE);
    mkdirSync(xattrOut, { recursive: true });
    for (const f of ['package.json', basename(xattr.file)]) copyFileSync(join(xattr.dir, f), join(xattrOut, f));
    // Last: the guest's start needs the launcher and both addons in place.
    writeCodeCache(tmp, nodeBin, progress);
  });
  progress(`guest bundle ready: ${dir} (${readdirSync(join(dir, 'lib')).length} libraries)`);
  return bundle;
}
