/**
 * Builds the self-contained guest directory that the engine bind-mounts read-only at
 * /opt/agentbox in every sandbox, whatever its image (glibc, musl, busybox, no Node):
 *
 *   guest.mjs                       the guest daemon, one esbuild bundle
 *   bin/node, bin/tini              the host's node binary; Debian's static tini (PID 1, reaps orphans)
 *   lib/*.so*, lib/ld-linux-*.so.2  every library `ldd` lists for node and the PTY addon
 *   node_modules/node-pty/          the PTY addon (JS + pty.node), loaded by guest.mjs on demand
 *   manifest.json                   written last: hash, envd version, argv
 *
 * node starts through the bundled loader with --library-path, so the image's libc is never used.
 * Cached by content hash under ~/.cache/agentbox/guest/<hash>/; a build goes to a temp dir and is
 * renamed into place, so concurrent callers never see half a bundle.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AgentboxError } from '../api/errors.ts';
import { ENVD_VERSION } from '../guest/version.ts';

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

export const GUEST_MOUNT = '/opt/agentbox';
const TINI_STATIC = '/usr/bin/tini-static';
const LAUNCHER_SOURCE = fileURLToPath(new URL('../guest/native/launcher.c', import.meta.url));
const MAIN = fileURLToPath(new URL('../guest/main.ts', import.meta.url));

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
    `${GUEST_MOUNT}/bin/node`, `${GUEST_MOUNT}/guest.mjs`,
  ];
}

async function bundleGuest(): Promise<Uint8Array> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [MAIN],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    legalComments: 'none',
    // The native addon ships beside guest.mjs under node_modules/.
    external: ['node-pty'],
    // CommonJS dependencies (busboy) call require() for Node built-ins.
    banner: { js: "import { createRequire as __agentboxRequire } from 'node:module'; const require = __agentboxRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

function nodePtyDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('node-pty/package.json'));
}

/**
 * Compiles the static process launcher. Without a C compiler the bundle goes without it and
 * the guest forks itself for every process (~4 ms slower per process under gVisor).
 */
function buildLauncher(out: string, progress: (msg: string) => void): void {
  try {
    execFileSync('gcc', ['-static', '-O2', '-o', out, LAUNCHER_SOURCE], { stdio: 'pipe' });
  } catch (err) {
    progress(`no process launcher in this bundle (gcc -static failed: ${(err as Error).message.split('\n')[0]}); install gcc and libc6-dev for faster process starts`);
  }
}

export async function ensureGuestBundle(opts: EnsureGuestBundleOptions = {}): Promise<GuestBundle> {
  const progress = opts.onProgress ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultGuestCacheDir();
  const nodeBin = realpathSync(process.execPath);
  const ptyDir = nodePtyDir();
  const ptyAddon = join(ptyDir, 'build', 'Release', 'pty.node');
  if (!existsSync(ptyAddon)) {
    throw new AgentboxError('not_supported', `node-pty's addon is not built (${ptyAddon}); run: npm install-scripts approve node-pty && npm rebuild node-pty`);
  }
  if (!existsSync(TINI_STATIC)) {
    throw new AgentboxError('not_supported', `${TINI_STATIC} is missing; install the Debian package tini`);
  }
  const code = await bundleGuest();
  const libs = sharedLibraries([nodeBin, ptyAddon]);
  const loader = loaderName(libs);
  // The node binary (~100 MB) is identified by version, path, size and mtime instead of its
  // bytes: hashing it would add ~0.3 s to every call on the engine's start path.
  const nodeStat = statSync(nodeBin);
  const h = createHash('sha256')
    .update(ENVD_VERSION).update('\0')
    .update(code).update('\0')
    .update(`${process.version}:${nodeBin}:${nodeStat.size}:${nodeStat.mtimeMs}`).update('\0')
    .update(readFileSync(ptyAddon)).update('\0')
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
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(join(tmp, 'bin'), { recursive: true });
    mkdirSync(join(tmp, 'lib'));
    writeFileSync(join(tmp, 'guest.mjs'), code);
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
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ hash, envdVersion: ENVD_VERSION, argv, node: process.version }, null, 2) + '\n');
    mkdirSync(cacheDir, { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process finished the same bundle first: theirs is identical.
      if (!existsSync(join(dir, 'manifest.json'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  progress(`guest bundle ready: ${dir} (${readdirSync(join(dir, 'lib')).length} libraries)`);
  return bundle;
}
