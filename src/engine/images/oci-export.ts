/**
 * Writes a root filesystem as an OCI image layout archive
 * (https://github.com/opencontainers/image-spec/blob/main/image-layout.md), the form
 * `ctr -n k8s.io images import` loads into a node's containerd without a registry. Templates
 * become `agentbox.local/<template>:latest` this way (scripts/k8s-env.sh `images`).
 *
 * Layers are uncompressed tars made by the host's GNU tar (numeric owners, modes, links and
 * device nodes as they are on disk). A template's layers are flattened into one through a
 * read-only overlay mount, so overlayfs whiteouts and opaque directories never need translating
 * into OCI's `.wh.` names.
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { ensureGuestBundle } from '../../envd/bundle.ts';
import { runCommand } from '../command.ts';
import { sha256OfFile } from '../runtime/assets.ts';
import { mountReadOnly, unmount } from './overlay.ts';
import type { TemplateStore } from './template-store.ts';

/** A directory that becomes one layer; `under` puts its contents below that path in the image. */
export interface LayerSource {
  dir: string;
  under?: string;
}

export interface OciImage {
  /** Full reference, e.g. `agentbox.local/busybox:latest`. */
  ref: string;
  /** Bottom-most first. */
  layers: LayerSource[];
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  user?: string;
}

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
};

const REF = /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const ociArch = (arch: NodeJS.Architecture) => (arch === 'x64' ? 'amd64' : arch);

interface Blob { digest: string; size: number }

async function sha256File(path: string): Promise<Blob> {
  return { digest: `sha256:${await sha256OfFile(path)}`, size: (await stat(path)).size };
}

/** Moves `file` into the layout's blob store under its digest. */
async function storeBlob(layout: string, file: string): Promise<Blob> {
  const blob = await sha256File(file);
  await rename(file, join(layout, 'blobs', 'sha256', blob.digest.slice('sha256:'.length)));
  return blob;
}

async function writeJsonBlob(layout: string, value: unknown): Promise<Blob> {
  const file = join(layout, 'blobs', '.json');
  await writeFile(file, JSON.stringify(value));
  return storeBlob(layout, file);
}

async function tarLayer(layout: string, source: LayerSource): Promise<Blob> {
  const file = join(layout, 'blobs', '.layer');
  // `--transform` renames members (and hard-link targets, which are member names) but not
  // symlink targets (`S`), which point into the image's own root.
  const under = source.under ? ['--transform', `s,^\\.,${source.under.replace(/^\/+|\/+$/g, '')},rhS`] : [];
  await runCommand('tar', ['--numeric-owner', '--xattrs', '--one-file-system', '-C', source.dir, ...under, '-cf', file, '.']);
  return storeBlob(layout, file);
}

/** Writes `image` as an OCI layout tar at `out` (atomically); returns the manifest digest. */
export async function writeOciArchive(out: string, image: OciImage): Promise<string> {
  if (!REF.test(image.ref)) {
    throw new AgentboxError('invalid_argument', `'${image.ref}' is not an image reference with a tag (e.g. agentbox.local/base:latest)`);
  }
  if (image.layers.length === 0) throw new AgentboxError('invalid_argument', 'an image needs at least one layer');
  await mkdir(dirname(out), { recursive: true });
  const layout = await mkdtemp(join(dirname(out), '.oci-'));
  try {
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    const layers: Blob[] = [];
    for (const source of image.layers) layers.push(await tarLayer(layout, source));
    const config = await writeJsonBlob(layout, {
      architecture: ociArch(process.arch),
      os: 'linux',
      config: {
        ...(image.entrypoint ? { Entrypoint: image.entrypoint } : {}),
        ...(image.cmd ? { Cmd: image.cmd } : {}),
        Env: Object.entries({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...image.env }).map(([k, v]) => `${k}=${v}`),
        ...(image.workdir ? { WorkingDir: image.workdir } : {}),
        ...(image.user ? { User: image.user } : {}),
      },
      // Uncompressed layers: the diff id is the layer digest itself.
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    });
    const manifest = await writeJsonBlob(layout, {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, ...config },
      layers: layers.map((l) => ({ mediaType: MEDIA.layer, ...l })),
    });
    const tag = image.ref.slice(image.ref.lastIndexOf(':') + 1);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [{
        mediaType: MEDIA.manifest, ...manifest,
        // containerd names the imported image by the first; the second is the OCI standard tag.
        annotations: { 'io.containerd.image.name': image.ref, 'org.opencontainers.image.ref.name': tag },
      }],
    }));
    const tmp = `${out}.tmp`;
    await runCommand('tar', ['-C', layout, '-cf', tmp, 'oci-layout', 'index.json', 'blobs/sha256']);
    await rename(tmp, out);
    return manifest.digest;
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}

/**
 * Runs `fn` with the merged root filesystem of `layers` (top-most first, as templates record
 * them): the layer itself when there is one, else a read-only overlay mount, removed afterwards.
 */
export async function withMergedRootfs<T>(layers: string[], scratch: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
  if (layers.length === 1) return fn(layers[0]!);
  const target = await mkdtemp(join(scratch, '.rootfs-'));
  await mountReadOnly(layers, target);
  try {
    return await fn(target);
  } finally {
    await unmount(target);
    await rm(target, { recursive: true, force: true });
  }
}

export interface TemplateExport {
  out: string;
  /** Default `agentbox.local/<template>:latest`. */
  ref?: string;
  /** Adds the guest bundle under /agentbox: the image `agentbox.dev/inject-guest` copies it from. */
  withGuest?: boolean;
  onProgress?: (message: string) => void;
}

/** Builds template `name` if needed and writes it as an OCI archive; returns the image reference. */
export async function exportTemplate(store: TemplateStore, name: string, opts: TemplateExport): Promise<string> {
  const info = await store.ensure(name, (e) => opts.onProgress?.(e.message));
  const ref = opts.ref ?? `agentbox.local/${name}:latest`;
  const extra = opts.withGuest ? [{ dir: (await ensureGuestBundle({ onProgress: opts.onProgress })).dir, under: 'agentbox' }] : [];
  opts.onProgress?.(`exporting ${name} as ${ref}`);
  await mkdir(dirname(opts.out), { recursive: true });
  await withMergedRootfs(info.layers, dirname(opts.out), (rootfs) => writeOciArchive(opts.out, {
    ref,
    layers: [{ dir: rootfs }, ...extra],
    cmd: info.config.start?.cmd ?? ['/bin/sh'],
    env: info.config.env,
    workdir: info.config.workdir,
    user: info.config.user,
  }));
  return ref;
}
