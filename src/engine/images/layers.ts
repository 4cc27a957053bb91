/**
 * Root filesystem layers, content-addressed under `<cache>/layers/<key>/rootfs` and shared by
 * every agentbox home on the machine (a Debian base takes ~30 s to build; it is built once).
 * A layer is built in a temporary directory and renamed into place, so a crashed build never
 * leaves a half layer that looks finished.
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import { ensurePrivateDir } from '../fsutil.ts';
import { DEFAULT_MIRROR } from './build-policy.ts';
import { hashOf } from './recipe.ts';

export type Progress = (message: string) => void;

/**
 * Milliseconds left before a build's deadline; a host tool gets at most that long. `what` names
 * the phase for the timeout error.
 */
export interface Deadline {
  remaining(what: string): number;
}

export class LayerCache {
  constructor(readonly root: string) {}

  path(key: string): string {
    return join(this.root, key, 'rootfs');
  }

  has(key: string): boolean {
    return existsSync(join(this.root, key, 'done'));
  }

  /** Returns the layer for `key`, building it with `build(tmpRootfs)` when absent. */
  async ensure(key: string, build: (rootfs: string) => Promise<void>): Promise<string> {
    if (this.has(key)) return this.path(key);
    // 0700: layers hold setuid binaries and whatever builds made; no host user may reach them.
    await ensurePrivateDir(this.root);
    const tmp = await mkdtemp(join(this.root, `.build-${key.slice(0, 12)}-`));
    try {
      await mkdir(join(tmp, 'rootfs'));
      await build(join(tmp, 'rootfs'));
      await writeFile(join(tmp, 'done'), new Date().toISOString());
      await rename(tmp, join(this.root, key)).catch(async (err: NodeJS.ErrnoException) => {
        // Another build of the same key finished first: its result is identical, keep it.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return this.path(key);
  }
}

export interface DebianBase {
  suite: string;
  variant: string;
  mirror?: string;
  packages: string[];
}

/**
 * What dpkg leaves out of every Debian layer: documentation, man and info pages and message
 * translations, which a sandbox never reads (71 MB of the 283 MB the former base image took;
 * copyright files stay). Part of the layer's key, so changing it rebuilds.
 * mmdebstrap(1), "Exclude paths to reduce chroot size".
 */
export const DPKG_PATH_EXCLUDES = [
  'path-exclude=/usr/share/doc/*', 'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*', 'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*', 'path-include=/usr/share/locale/locale.alias',
];

/** `base.mirror`, when set, has passed the build policy's checkMirror. */
export async function buildDebianLayer(cache: LayerCache, base: DebianBase, progress: Progress, deadline: Deadline): Promise<string> {
  const packages = [...new Set(base.packages)].sort();
  const key = hashOf({ kind: 'debian', suite: base.suite, variant: base.variant, mirror: base.mirror ?? DEFAULT_MIRROR, packages, excludes: DPKG_PATH_EXCLUDES });
  if (cache.has(key)) return cache.path(key);
  progress(`mmdebstrap ${base.suite} (${base.variant}) with ${packages.length} packages: ${packages.join(' ') || '(none)'}`);
  return cache.ensure(key, async (rootfs) => {
    const args = [`--variant=${base.variant}`, '--format=directory', '--skip=output/dev'];
    if (packages.length) args.push(`--include=${packages.join(',')}`);
    // Keep images small: no recommends (mmdebstrap's default), no docs, no apt lists or caches.
    args.push(...DPKG_PATH_EXCLUDES.map((o) => `--dpkgopt=${o}`));
    args.push('--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin');
    args.push(base.suite, rootfs, base.mirror ?? DEFAULT_MIRROR);
    await runCommand('mmdebstrap', args, {
      timeoutMs: deadline.remaining('the Debian base (mmdebstrap)'),
      errorCode: 'internal',
      onOutput: (chunk) => chunk.split('\n').filter(Boolean).forEach((l) => progress(l)),
    }).catch((err: AgentboxError) => {
      deadline.remaining('the Debian base (mmdebstrap)');
      throw new AgentboxError(err.code === 'unavailable' ? 'unavailable' : 'internal',
        `building the Debian base failed: ${err.message}. Check that mmdebstrap is installed and ${base.mirror ?? DEFAULT_MIRROR} is reachable.`,
        { cause: err });
    });
  });
}

const BUSYBOX = '/bin/busybox';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n';

/** A rootfs with nothing but Debian's static busybox: no libc, no Node. */
export async function buildBusyboxLayer(cache: LayerCache, progress: Progress): Promise<string> {
  if (!existsSync(BUSYBOX)) {
    throw new AgentboxError('unavailable', `${BUSYBOX} is missing: install Debian's busybox-static package (apt-get install busybox-static)`);
  }
  const busybox = await readFile(BUSYBOX);
  const key = hashOf({ kind: 'busybox', sha256: (await import('node:crypto')).createHash('sha256').update(busybox).digest('hex') });
  if (cache.has(key)) return cache.path(key);
  progress('assembling a busybox root filesystem');
  return cache.ensure(key, async (rootfs) => {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home/user', 'tmp', 'proc', 'sys', 'dev', 'var/tmp', 'run']) {
      await mkdir(join(rootfs, d), { recursive: true });
    }
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await writeFile(join(rootfs, 'bin/busybox'), busybox, { mode: 0o755 });
    const { stdout } = await runCommand(BUSYBOX, ['--list-full']);
    for (const applet of stdout.split('\n').filter(Boolean)) {
      if (applet === 'bin/busybox') continue;
      await symlink('/bin/busybox', join(rootfs, applet)).catch(() => undefined);
    }
    await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc/group'), GROUP);
    await runCommand('chown', ['1000:1000', join(rootfs, 'home/user')]);
  });
}

/**
 * Imports an OCI image layout directory (`path` + optional `ref`, default `latest`) or a
 * `docker save` tarball, flattened to one layer with umoci (whiteouts applied). `path` is trusted:
 * the build policy's resolveImportPath or an upload the engine received. Device nodes in the image
 * are dropped (a sandbox's /dev is its own tmpfs; on the host they would open host devices).
 */
export async function importOciLayer(cache: LayerCache, source: { path: string; ref?: string }, progress: Progress, deadline: Deadline): Promise<string> {
  const isLayout = existsSync(join(source.path, 'oci-layout'));
  const digestFile = isLayout ? join(source.path, 'index.json') : source.path;
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const h = createHash('sha256');
  for await (const chunk of createReadStream(digestFile)) h.update(chunk as Buffer);
  const key = hashOf({ kind: 'oci', content: h.digest('hex'), ref: source.ref ?? null });
  if (cache.has(key)) return cache.path(key);
  return cache.ensure(key, async (rootfs) => {
    const work = await mkdtemp(join(cache.root, '.import-'));
    try {
      let layout = source.path;
      let ref = source.ref ?? 'latest';
      if (!isLayout) {
        progress(`converting docker archive ${source.path} to an OCI layout`);
        layout = join(work, 'layout');
        const archiveRef = source.ref ? `docker-archive:${source.path}:${source.ref}` : `docker-archive:${source.path}`;
        await runCommand('skopeo', ['copy', '--quiet', archiveRef, `oci:${layout}:imported`], { timeoutMs: deadline.remaining('converting the archive (skopeo)'), errorCode: 'invalid_argument' });
        ref = 'imported';
      }
      progress(`unpacking ${layout}:${ref}`);
      await runCommand('umoci', ['unpack', '--image', `${layout}:${ref}`, join(work, 'bundle')], { timeoutMs: deadline.remaining('unpacking the image (umoci)'), errorCode: 'invalid_argument' });
      await runCommand('find', [join(work, 'bundle', 'rootfs'), '-xdev', '(', '-type', 'b', '-o', '-type', 'c', ')', '-delete']);
      await rm(rootfs, { recursive: true });
      await rename(join(work, 'bundle', 'rootfs'), rootfs);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}
