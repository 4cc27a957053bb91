/**
 * Volumes of the caller's tenant (docs/volumes.md): named directories with a size limit that
 * outlive sandboxes; `Sandbox.create({ volumes: [{ name, path }] })` mounts them.
 *
 * @example
 *   await Volumes.create('data', { sizeMiB: 1024 });
 *   const sbx = await Sandbox.create({ volumes: [{ name: 'data', path: '/mnt/data' }] });
 *   await sbx.kill();
 *   await Volumes.delete('data');   // refused (ConflictError) while a sandbox mounts it
 */
import type { VolumeView } from '../api/native.ts';
import { ApiClient } from './api-client.ts';
import { resolveConnection, type ConnectionOptions } from './config.ts';

export type VolumeInfo = VolumeView;

export const Volumes = {
  async create(name: string, opts: ConnectionOptions & { sizeMiB?: number } = {}): Promise<VolumeInfo> {
    const { sizeMiB, ...conn } = opts;
    return new ApiClient(resolveConnection(conn)).call('createVolume', {}, { json: { name, ...(sizeMiB !== undefined ? { sizeMiB } : {}) } });
  },
  /** By id or name. */
  async get(volume: string, opts: ConnectionOptions = {}): Promise<VolumeInfo> {
    return new ApiClient(resolveConnection(opts)).call('getVolume', { volume }, {});
  },
  async list(opts: ConnectionOptions = {}): Promise<VolumeInfo[]> {
    return (await new ApiClient(resolveConnection(opts)).call('listVolumes', {}, {})).volumes;
  },
  /** Deletes the volume and its files. */
  async delete(volume: string, opts: ConnectionOptions = {}): Promise<void> {
    await new ApiClient(resolveConnection(opts)).call('deleteVolume', { volume }, {});
  },
};
