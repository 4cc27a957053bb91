/**
 * Warm pools of the caller's tenant: a create of a pooled template claims a started sandbox.
 * A pool is sized by `size` (that many idle) or by OpenSandbox's capacity (keep between
 * bufferMin and bufferMax idle, poolMin to poolMax members in total).
 *
 * @example
 *   await Pools.set('base', { size: 3 });
 *   await Pools.set('base', { bufferMin: 2, bufferMax: 5, poolMin: 0, poolMax: 20 });
 *   const { total, allocated, available } = await Pools.get('base');
 */
import type { PoolSizing, PoolView, RuntimeName } from '../api/native.ts';
import { ApiClient } from './api-client.ts';
import { resolveConnection, type ConnectionOptions } from './config.ts';

export type PoolInfo = PoolView;
export type { PoolSizing };

export const Pools = {
  async set(template: string, sizing: PoolSizing, opts: ConnectionOptions & { runtime?: RuntimeName } = {}): Promise<PoolInfo> {
    const { runtime, ...conn } = opts;
    return new ApiClient(resolveConnection(conn)).call('setPool', { template }, { json: { ...sizing, ...(runtime ? { runtime } : {}) } });
  },
  async get(template: string, opts: ConnectionOptions = {}): Promise<PoolInfo> {
    return new ApiClient(resolveConnection(opts)).call('getPool', { template }, {});
  },
  async list(opts: ConnectionOptions = {}): Promise<PoolInfo[]> {
    return (await new ApiClient(resolveConnection(opts)).call('listPools', {}, {})).pools;
  },
  /** Deletes the pool; its idle sandboxes go, claimed ones stay. */
  async delete(template: string, opts: ConnectionOptions = {}): Promise<void> {
    await new ApiClient(resolveConnection(opts)).call('deletePool', { template }, {});
  },
};
