/**
 * Pools on the Kubernetes backend are OpenSandbox Pools (sandbox.opensandbox.io, served by the
 * operator with `--opensandbox`, src/k8s/opensandbox/): a Pool owns a SandboxTemplate and a
 * SandboxWarmPool of its name, so a create with `extensions.poolRef` names the template, and the
 * claim it makes comes from that warm pool. This reads a Pool's view from its status; a cluster
 * without the Pool CRD has no pools (not_found).
 */
import { notFound } from '../api/errors.ts';
import type { Pool } from '../api/k8s/opensandbox.ts';
import type { PoolView } from '../api/native.ts';
import { peakIdle } from '../api/pool-capacity.ts';
import type { KubeClient } from '../k8s/client.ts';
import { POOLS } from '../k8s/resources.ts';

export async function poolView(client: KubeClient, namespace: string, name: string): Promise<PoolView> {
  // getOrNull: without the CRD the API server answers 404 too, which means no such pool here.
  const pool = await client.getOrNull<Pool>(POOLS, namespace, name);
  if (!pool) throw notFound('pool', name);
  const { total = 0, allocated = 0, available = 0 } = pool.status ?? {};
  return {
    template: name,
    size: peakIdle(pool.spec.capacitySpec),
    // The operator's default RuntimeClass; the server cannot see the one its pods really get.
    runtime: 'gvisor',
    ready: available,
    starting: Math.max(0, total - allocated - available),
    capacity: pool.spec.capacitySpec,
    total, allocated, available,
  };
}
