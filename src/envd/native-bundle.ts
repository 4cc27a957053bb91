/**
 * Builds the guest directory for the native guest (crates/guest), which the engine bind-mounts
 * read-only at /opt/agentbox in place of the TypeScript guest's bundle (bundle.ts):
 *
 *   bin/agentbox-guest   the guest daemon, one static executable (no libc of the image is used)
 *   bin/tini             Debian's static tini (PID 1, reaps orphans)
 *   manifest.json        written last: hash, envd version, argv
 *
 * Cached by a hash of the crate's sources under ~/.cache/agentbox/guest/native-<hash>/, so cargo
 * runs only when the sources changed; its build directory is kept beside (cargo-target/) to make
 * a rebuild incremental. Built in a temp dir and renamed into place, as bundle.ts does.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentboxError } from '../api/errors.ts';
import { ENVD_VERSION } from '../guest/version.ts';
import { GUEST_MOUNT, TINI_STATIC, type EnsureGuestBundleOptions, type GuestBundle, defaultGuestCacheDir, publishGuestDir } from './bundle.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CRATE = join(ROOT, 'crates', 'guest');
/** The envd protos the crate generates its messages from (crates/guest/build.rs). */
const SPEC = join(ROOT, 'spec', 'envd');
const BINARY = 'agentbox-guest';
/**
 * The host's target, named so RUSTFLAGS reach only the guest: with a target given, cargo builds
 * build scripts and proc-macros without them, and those cannot link statically.
 */
const TARGET = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-unknown-linux-gnu`;

export const NATIVE_GUEST_ARGV = [`${GUEST_MOUNT}/bin/tini`, '-s', '-g', '--', `${GUEST_MOUNT}/bin/${BINARY}`];

/** Every file under `dir`, sorted, paths relative to the repository. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

/** What the executable is built from: the crate (not its build directory), the protos and tini. */
function sourceHash(): string {
  const sources = [
    ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => join(CRATE, f)),
    ...filesUnder(join(CRATE, 'src')),
    ...filesUnder(SPEC),
  ];
  const h = createHash('sha256').update(ENVD_VERSION).update('\0').update(TARGET).update('\0');
  for (const path of sources) h.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  h.update(readFileSync(TINI_STATIC));
  return h.digest('hex').slice(0, 16);
}

/** Where rustup puts cargo (a service's PATH often lacks ~/.cargo/bin), else cargo on PATH; undefined without one. */
function findCargo(): string | undefined {
  const dirs = [join(homedir(), '.cargo', 'bin'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((d) => join(d, 'cargo')).find((c) => existsSync(c));
}

/** Where the native guest of these sources is, or will be once built; its sources are hashed once. */
export interface NativeGuest {
  bundle: GuestBundle;
  /** Whether it is built already. */
  built: boolean;
  /** cargo, to build it; undefined without one. */
  cargo?: string;
}

export function locateNativeGuest(opts: EnsureGuestBundleOptions = {}): NativeGuest {
  const hash = sourceHash();
  const dir = join(opts.cacheDir ?? defaultGuestCacheDir(), `native-${hash}`);
  return {
    bundle: { dir, hash, argv: NATIVE_GUEST_ARGV, envdVersion: ENVD_VERSION },
    built: existsSync(join(dir, 'manifest.json')),
    cargo: findCargo(),
  };
}

/** Runs cargo, passing each line it prints to `progress`; rejects with its last lines on failure. */
function runCargo(cargo: string | undefined, targetDir: string, progress: (msg: string) => void): Promise<void> {
  const args = ['build', '--release', '--locked', '--manifest-path', join(CRATE, 'Cargo.toml'), '--target', TARGET, '--target-dir', targetDir];
  return new Promise((resolve, reject) => {
    if (!cargo) {
      reject(new AgentboxError('not_supported', 'the native guest needs Rust 1.88 or later to build: install it with rustup, or set AGENTBOX_GUEST=typescript'));
      return;
    }
    const child = spawn(cargo, args, {
      env: { ...process.env, RUSTFLAGS: '-C target-feature=+crt-static' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const tail: string[] = [];
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        progress(`native guest: ${line.trim()}`);
      }
    });
    child.once('error', (err) => reject(new AgentboxError('not_supported',
      `cannot run cargo (${err.message}); the native guest needs Rust: install it with rustup, or set AGENTBOX_GUEST=typescript`, { cause: err })));
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new AgentboxError('internal', `building the native guest failed (cargo exited ${code}):\n${tail.join('\n')}`));
    });
  });
}

/** The native guest of `native` (default: these sources), built with cargo first when it is not yet. */
export async function ensureNativeGuestBundle(opts: EnsureGuestBundleOptions = {}, native = locateNativeGuest(opts)): Promise<GuestBundle> {
  const progress = opts.onProgress ?? (() => {});
  if (!existsSync(TINI_STATIC)) {
    throw new AgentboxError('not_supported', `${TINI_STATIC} is missing; install the Debian package tini`);
  }
  const { bundle } = native;
  if (native.built) return bundle;

  progress(`building native guest ${bundle.hash} (cargo build --release; a first build takes a few minutes)`);
  const targetDir = join(opts.cacheDir ?? defaultGuestCacheDir(), 'cargo-target');
  await runCargo(native.cargo, targetDir, progress);
  publishGuestDir(bundle.dir, { hash: bundle.hash, envdVersion: ENVD_VERSION, argv: NATIVE_GUEST_ARGV, guest: 'native' }, (tmp) => {
    mkdirSync(join(tmp, 'bin'));
    copyFileSync(join(targetDir, TARGET, 'release', BINARY), join(tmp, 'bin', BINARY));
    copyFileSync(TINI_STATIC, join(tmp, 'bin', 'tini'));
    for (const f of [BINARY, 'tini']) chmodSync(join(tmp, 'bin', f), 0o755);
  });
  progress(`native guest ready: ${bundle.dir} (${(statSync(join(bundle.dir, 'bin', BINARY)).size / 1e6).toFixed(1)} MB)`);
  return bundle;
}
