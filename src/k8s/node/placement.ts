// Where a snapshot may be restored when the node that took it is gone or down: the Ready nodes
// among the gVisor nodes (the operator's --runtime-node-selector, the node agents' DaemonSet
// selector). Read from the API server when needed, which is rarely: only when a restore finds its
// snapshot's node not Ready.
import type { KubeObject } from '../../api/k8s/types.ts';
import { NODES, type KubeClient } from '../client.ts';

type Node = KubeObject & { spec?: { unschedulable?: boolean }; status?: { conditions?: { type: string; status: string }[] } };

export interface RestoreNodes {
  /** The node exists, is Ready and takes new pods. */
  isReady(name: string): Promise<boolean>;
  /** The gVisor nodes that are Ready and take new pods. */
  ready(): Promise<string[]>;
}

const usable = (n: Node) => !n.spec?.unschedulable && (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function restoreNodes(client: KubeClient, gvisorSelector: string): RestoreNodes {
  return {
    isReady: async (name) => {
      const n = await client.getOrNull<Node>(NODES, undefined, name);
      return !!n && usable(n);
    },
    ready: async () => (await client.list<Node>(NODES, undefined, { labelSelector: gvisorSelector })).items.filter(usable).map((n) => n.metadata.name!),
  };
}
