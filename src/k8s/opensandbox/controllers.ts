// Wiring of the OpenSandbox controllers into the operator (operator.ts calls it when
// `openSandbox` is on): their two informers and queues, over the extension caches it shares.
import type { BatchSandbox, Pool } from '../../api/k8s/opensandbox.ts';
import type { KubeObject, Sandbox, SandboxClaim, SandboxTemplate, SandboxWarmPool } from '../../api/k8s/types.ts';
import type { KubeClient, ResourceType } from '../client.ts';
import type { Informer } from '../informer.ts';
import { WorkQueue } from '../queue.ts';
import { BATCH_SANDBOXES, POOLS } from '../resources.ts';
import { BatchSandboxController } from './batch-controller.ts';
import { PoolController } from './pool-controller.ts';

export interface OpenSandboxWiring {
  client: KubeClient;
  inf: <T extends KubeObject>(rt: ResourceType) => Informer<T>;
  templates: Informer<SandboxTemplate>;
  warmPools: Informer<SandboxWarmPool>;
  sandboxes: Informer<Sandbox>;
  claims: Informer<SandboxClaim>;
  guestImage: string;
  now: () => Date;
  onError: (kind: string) => (key: string, e: unknown) => void;
  time: <T>(kind: string, fn: () => Promise<T>) => Promise<T>;
}

const splitKey = (key: string) => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)] as const;
};

export function openSandboxControllers(w: OpenSandboxWiring): { informers: { start(): Promise<void>; stop(): Promise<void> }[]; queues: WorkQueue[] } {
  const pools = w.inf<Pool>(POOLS);
  const batches = w.inf<BatchSandbox>(BATCH_SANDBOXES);
  const poolCtl = new PoolController({ client: w.client, pools, templates: w.templates, warmPools: w.warmPools, sandboxes: w.sandboxes, claims: w.claims, guestImage: w.guestImage });
  const batchCtl = new BatchSandboxController({ client: w.client, batches, claims: w.claims, sandboxes: w.sandboxes, guestImage: w.guestImage, now: w.now });
  const poolQ = new WorkQueue({ workers: 2, onError: w.onError('pool'), handler: (key) => w.time('pool', () => poolCtl.reconcile(...splitKey(key))) });
  const batchQ = new WorkQueue({ workers: 4, onError: w.onError('batchsandbox'), handler: (key) => w.time('batchsandbox', () => batchCtl.reconcile(...splitKey(key))) });
  poolCtl.watch((key) => poolQ.add(key));
  batchCtl.watch((key) => batchQ.add(key));
  return { informers: [pools, batches], queues: [poolQ, batchQ] };
}
