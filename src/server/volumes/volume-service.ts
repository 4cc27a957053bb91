/**
 * Volumes of a tenant (issue 15): create, list, get, delete, the mounts a sandbox create asks
 * for, and the content API's files. Names and ids resolve only within the caller's tenant, so
 * another tenant's volume is not_found, never permission_denied. The engine holds the files (a
 * disk image per volume, engine/volumes/disks.ts); the row is written first and removed if the
 * engine fails, and a delete is refused while any sandbox, running or paused, mounts the volume.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AgentboxError, invalidArgument, notFound } from '../../api/errors.ts';
import type { VolumeMountBody, VolumeView } from '../../api/native.ts';
import type { Engine, VolumeMount } from '../../engine/types.ts';
import type { Principal } from '../auth-store.ts';
import type { Quota } from '../quota.ts';
import { sameSecret } from '../same-secret.ts';
import { VolumeFiles } from './volume-files.ts';
import type { VolumeRecord, VolumeStore } from './volume-store.ts';

export interface VolumeOps {
  create(p: Principal, name: string, sizeMiB?: number): Promise<VolumeView>;
  list(p: Principal): VolumeView[];
  /** By id or name. */
  get(p: Principal, ref: string): VolumeView;
  delete(p: Principal, ref: string): Promise<void>;
  /** The files of volume `id`, for a request bearing the volume's content `token`. */
  content(id: string, token: string | undefined): VolumeFiles;
}

/**
 * The volumes a create's `volumes` name (the caller's, by name; `find` looks in its tenant only):
 * every unknown one is named at once, in E2B's words ("volume mount #1: volume 'x' not found");
 * the paths themselves are checked by the backend (api/volume-mount-path.ts). Both backends
 * resolve mounts with it.
 */
export function resolveMounts<V extends { name: string }>(wanted: VolumeMountBody[], find: (name: string) => V | undefined): { volume: V; path: string }[] {
  const found = wanted.map((m, index) => ({ index, m, v: find(m.name) }));
  const missing = found.filter((x) => !x.v || x.v.name !== x.m.name);
  if (missing.length > 0) {
    throw invalidArgument(`invalid mounts: ${missing.map((x) => `volume mount #${x.index}: volume '${x.m.name}' not found`).join('; ')}`);
  }
  return found.map((x) => ({ volume: x.v!, path: x.m.path }));
}

export interface VolumeDeps {
  engine: Engine;
  store: VolumeStore;
  quota: Quota;
  now: () => number;
}

const view = (v: VolumeRecord): VolumeView => ({ id: v.id, name: v.name, sizeMiB: v.sizeMiB, createdAt: new Date(v.createdAt).toISOString(), token: v.token });

export class VolumeService implements VolumeOps {
  constructor(private readonly d: VolumeDeps) {}

  private own(p: Principal, ref: string): VolumeRecord {
    const v = this.d.store.find(p.tenantId, ref);
    if (!v) throw notFound('volume', ref);
    return v;
  }

  async create(p: Principal, name: string, sizeMiB?: number): Promise<VolumeView> {
    const rec: VolumeRecord = {
      id: randomUUID(), tenantId: p.tenantId, name, token: randomBytes(32).toString('base64url'),
      sizeMiB: this.d.quota.diskMiB(p, sizeMiB), createdAt: this.d.now(),
    };
    this.d.store.insert(rec);
    try {
      await this.d.engine.createVolume(rec.id, rec.sizeMiB);
    } catch (err) {
      this.d.store.delete(rec.id);
      await this.d.engine.deleteVolume(rec.id).catch(() => undefined);
      throw err;
    }
    return view(rec);
  }

  list(p: Principal): VolumeView[] {
    return this.d.store.list(p.tenantId).map(view);
  }

  get(p: Principal, ref: string): VolumeView {
    return view(this.own(p, ref));
  }

  async delete(p: Principal, ref: string): Promise<void> {
    const v = this.own(p, ref);
    await this.d.engine.deleteVolume(v.id).catch((err: unknown) => {
      if ((err as AgentboxError).code === 'conflict') throw new AgentboxError('conflict', `volume '${v.name}' is mounted by a sandbox; kill the sandboxes that mount it first`, { details: (err as AgentboxError).details });
      if ((err as AgentboxError).code !== 'not_found') throw err;
    });
    this.d.store.delete(v.id);
  }

  /** The engine mounts of a create's `volumes` (names of the caller's volumes; see resolveMounts). */
  mounts(p: Principal, wanted: VolumeMountBody[]): VolumeMount[] {
    return resolveMounts(wanted, (name) => this.d.store.find(p.tenantId, name)).map((m) => ({ volumeId: m.volume.id, path: m.path }));
  }

  /** Names of the volumes an engine sandbox mounts, for its details. */
  named(mounts: VolumeMount[]): { name: string; path: string }[] {
    return mounts.map((m) => ({ name: this.d.store.byId(m.volumeId)?.name ?? m.volumeId, path: m.path }));
  }

  content(id: string, token: string | undefined): VolumeFiles {
    const v = token ? this.d.store.byToken(token) : undefined;
    if (!v || !sameSecret(token, v.token)) throw new AgentboxError('unauthenticated', 'a volume content request needs the volume\'s token as Authorization: Bearer <token>');
    if (v.id !== id) throw notFound('volume', id);
    return new VolumeFiles(this.d.engine.volumeDir(v.id));
  }
}
