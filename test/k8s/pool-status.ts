// Waiting for an OpenSandbox Pool's status counts, shared by the tests of the Pool controller. On
// a timeout the error carries the last status, the warm pool behind it and the namespace's Sandboxes, which is what tells a
// sizing mistake from a slow kubelet.
import type { Pool, PoolStatus } from '../../src/api/k8s/opensandbox.ts';
import type { Sandbox, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import type { KubeClient } from '../../src/k8s/client.ts';
import { POOLS, SANDBOXES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { waitFor } from './harness.ts';

export type PoolCounts = Required<Pick<PoolStatus, 'total' | 'allocated' | 'available'>>;

export async function poolAt(client: KubeClient, ns: string, name: string, want: PoolCounts, timeoutMs = 30_000): Promise<Pool> {
  let last: Pool | undefined;
  try {
    return await waitFor(`pool ${name} at ${JSON.stringify(want)}`, async () => {
      const p = last = await client.get<Pool>(POOLS, ns, name);
      const s = p.status ?? {};
      return s.total === want.total && s.allocated === want.allocated && s.available === want.available ? p : null;
    }, timeoutMs, 200);
  } catch (e) {
    const wp = await client.getOrNull<SandboxWarmPool>(WARM_POOLS, ns, name);
    const sandboxes = (await client.list<Sandbox>(SANDBOXES, ns)).items.map((sb) => ({
      name: sb.metadata.name, owner: sb.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}/${r.uid}`), ready: sb.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    }));
    throw new Error(`${String(e)}; last status ${JSON.stringify(last?.status)}, warm pool ${JSON.stringify({ uid: wp?.metadata.uid, spec: wp?.spec, status: wp?.status, annotations: wp?.metadata.annotations })}, sandboxes ${JSON.stringify(sandboxes)}`);
  }
}
