// Composition root of the operator: one client, shared informers, one work queue per reconciler,
// each reconciler's `watch` wired to its queue (the mapping of changes to keys lives beside each
// reconciler). Everything is passed explicitly; nothing global.
import { LABEL } from '../api/k8s/constants.ts';
import type { KubeObject, Sandbox, SandboxClaim, SandboxConfig, SandboxSnapshot, SandboxTemplate, SandboxWarmPool } from '../api/k8s/types.ts';
import { NETWORK_POLICIES, NODES, PODS, SERVICES, type KubeClient, type ResourceType } from './client.ts';
import { eventRecorder } from './events.ts';
import { Informer } from './informer.ts';
import { WorkQueue } from './queue.ts';
import { CLAIMS, SANDBOX_CONFIGS, SANDBOX_SNAPSHOTS, SANDBOXES, TEMPLATES, WARM_POOLS } from './resources.ts';
import { SandboxController } from './sandbox/controller.ts';
import type { Pod } from './sandbox/pod.ts';
import { DEFAULT_RUNTIME_CLASS } from './sandbox/pod-defaults.ts';
import type { Service } from './sandbox/service.ts';
import { extensionPodLabels } from './extensions/pod-labels.ts';
import { TemplateController } from './extensions/template-controller.ts';
import { WarmPoolController } from './extensions/warmpool-controller.ts';
import { ClaimController } from './extensions/claim-controller.ts';
import { OperatorMetrics } from './metrics.ts';
import type { NetworkPolicy } from './extensions/network-policy.ts';
import { openSandboxControllers } from './opensandbox/controllers.ts';
import { DEFAULT_GUEST_IMAGE } from './opensandbox/pod-template.ts';
import { PoolDemandView } from './keda/demand.ts';
import type { NodeAgents } from './node/client.ts';
import { restoreNodes } from './node/placement.ts';
import { SnapshotController } from './snapshot/controller.ts';
import { RuntimeController, type RuntimeNode } from './runtime/controller.ts';

export interface OperatorOptions {
  client: KubeClient;
  /** Limit to one namespace (tests); all namespaces when unset. */
  namespace?: string;
  extensions?: boolean;
  clusterDomain?: string;
  /** RuntimeClass of pods whose template names none (default gvisor; '' = the cluster default). */
  runtimeClassName?: string;
  resyncMs?: number;
  sandboxWorkers?: number;
  claimWorkers?: number;
  poolWorkers?: number;
  templateWorkers?: number;
  /** Warm-pool members not Ready after this are replaced (unless unschedulable). */
  readinessGraceMs?: number;
  /** Most warm-pool members created in one pass, all at once. */
  poolMaxBatch?: number;
  /** Warm-pool member creates per second per pool (0 = no limit). */
  poolCreateQps?: number;
  /** Also serve OpenSandbox's Pool and BatchSandbox (needs `extensions` and their CRDs). */
  openSandbox?: boolean;
  /** Guest image injected into pods of OpenSandbox kinds whose template names none. */
  openSandboxGuestImage?: string;
  /** Ceiling on a claim's wait for the starting pool member it counts on. */
  claimMaxWarmWaitMs?: number;
  /** The node agents that checkpoint and restore pods (memory hibernation, docs/kubernetes-hibernation.md). */
  nodeAgents?: NodeAgents;
  /**
   * With node agents: the label selector of the gVisor nodes, each of which the operator keeps on
   * the runsc of the default SandboxConfig (src/k8s/runtime/); unset leaves nodes' runsc alone.
   */
  runtimeNodeSelector?: string;
  /**
   * With node agents: the gVisor nodes on which a snapshot kept in the object store is restored
   * when the node that took it is gone or not Ready (default: runtimeNodeSelector); unset:
   * a snapshot is restored only on its own node.
   */
  restoreNodeSelector?: string;
  now?: () => Date;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  metrics?: OperatorMetrics;
}

export interface RunningOperator {
  stop(): Promise<void>;
  /** Resolves when every queue is idle (tests). */
  idle(): Promise<void>;
  metrics: OperatorMetrics;
  sandboxes: Informer<Sandbox>;
  /** Warm-pool demand for autoscalers (KEDA); with `extensions` only. */
  demand?: PoolDemandView;
}

const splitKey = (key: string) => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)] as const;
};

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const log = o.log ?? (() => undefined);
  const now = o.now ?? (() => new Date());
  const metrics = o.metrics ?? new OperatorMetrics();
  const onError = (e: unknown) => log('informer error', { err: String(e) });
  /** An informer of the served namespace, or of the whole cluster for cluster-scoped kinds. */
  const inf = <T extends KubeObject>(rt: ResourceType, labelSelector?: string, scope: 'namespace' | 'cluster' = 'namespace') =>
    new Informer<T>(o.client, rt, { namespace: scope === 'cluster' ? undefined : o.namespace, labelSelector, resyncMs: o.resyncMs ?? 10 * 60_000, onError });

  const sandboxes = inf<Sandbox>(SANDBOXES);
  const pods = inf<Pod>(PODS, LABEL.sandboxNameHash);
  const services = inf<Service>(SERVICES, LABEL.sandboxNameHash);
  const sandboxPolicies = inf<NetworkPolicy>(NETWORK_POLICIES, LABEL.sandboxNameHash);
  const events = eventRecorder(o.client, 'sandbox-controller', onError);

  const restoreSelector = o.restoreNodeSelector ?? o.runtimeNodeSelector;
  const nodesForRestore = o.nodeAgents && restoreSelector ? restoreNodes(o.client, restoreSelector) : undefined;
  const sandboxCtl = new SandboxController({
    client: o.client, sandboxes, pods, services, policies: sandboxPolicies, events, now,
    podDefaults: { runtimeClassName: o.runtimeClassName ?? DEFAULT_RUNTIME_CLASS },
    clusterDomain: o.clusterDomain ?? 'cluster.local',
    podLabelHook: o.extensions ? extensionPodLabels : undefined,
    onReady: (sb) => metrics.sandboxReady(sb, now()),
    nodeAgents: o.nodeAgents,
    ...(nodesForRestore ? { restoreNodes: nodesForRestore } : {}),
  });
  const queueError = (kind: string) => (key: string, e: unknown) => { metrics.reconcileErrors.inc({ controller: kind }); log(`${kind} reconcile failed`, { key, err: String(e) }); };
  const sandboxQ = new WorkQueue({
    workers: o.sandboxWorkers ?? 16, onError: queueError('sandbox'),
    handler: (key) => metrics.timeReconcile('sandbox', () => sandboxCtl.reconcile(...splitKey(key))),
  });
  sandboxCtl.watch((key) => sandboxQ.add(key));

  const informers: { start(): Promise<void>; stop(): Promise<void> }[] = [sandboxes, pods, services, sandboxPolicies];
  const queues: WorkQueue[] = [sandboxQ];

  if (o.nodeAgents) {
    // SandboxSnapshots exist only where node agents take them; their finalizer needs the agents.
    const snapshots = inf<SandboxSnapshot>(SANDBOX_SNAPSHOTS);
    const snapshotCtl = new SnapshotController({ client: o.client, snapshots, agents: o.nodeAgents });
    const snapshotQ = new WorkQueue({
      workers: 2, onError: queueError('snapshot'),
      handler: (key) => metrics.timeReconcile('snapshot', () => snapshotCtl.reconcile(...splitKey(key))),
    });
    snapshotCtl.watch((key) => snapshotQ.add(key));
    informers.push(snapshots);
    queues.push(snapshotQ);
    metrics.watchQueues({ snapshot: snapshotQ });
    if (o.runtimeNodeSelector !== undefined) {
      const configs = inf<SandboxConfig>(SANDBOX_CONFIGS, undefined, 'cluster');
      const nodes = inf<RuntimeNode>(NODES, o.runtimeNodeSelector, 'cluster');
      const runtimeCtl = new RuntimeController({
        client: o.client, configs, nodes, agents: o.nodeAgents, now,
        events: eventRecorder(o.client, 'sandboxconfig-controller', onError),
      });
      const runtimeQ = new WorkQueue({
        workers: 1, onError: queueError('sandboxconfig'),
        handler: (key) => metrics.timeReconcile('sandboxconfig', () => runtimeCtl.reconcile(key)),
      });
      runtimeCtl.watch((key) => runtimeQ.add(key));
      informers.push(configs, nodes);
      queues.push(runtimeQ);
      metrics.watchQueues({ sandboxconfig: runtimeQ });
    }
  }
  let demand: PoolDemandView | undefined;

  if (o.extensions) {
    const templates = inf<SandboxTemplate>(TEMPLATES);
    const pools = inf<SandboxWarmPool>(WARM_POOLS);
    const claims = inf<SandboxClaim>(CLAIMS);
    const policies = inf<NetworkPolicy>(NETWORK_POLICIES, LABEL.templateRefHash);
    informers.push(templates, pools, claims, policies);
    const extEvents = eventRecorder(o.client, 'sandboxclaim-controller', onError);

    const templateCtl = new TemplateController({ client: o.client, templates, policies });
    const templateQ = new WorkQueue({
      workers: o.templateWorkers ?? 1, onError: queueError('template'),
      handler: (key) => metrics.timeReconcile('template', () => templateCtl.reconcile(...splitKey(key))),
    });
    templateCtl.watch((key) => templateQ.add(key));

    const poolCtl = new WarmPoolController({
      client: o.client, pools, templates, sandboxes, claims, now, metrics,
      events: eventRecorder(o.client, 'sandboxwarmpool-controller', onError),
      readinessGraceMs: o.readinessGraceMs ?? 5 * 60_000,
      maxBatch: o.poolMaxBatch, createQps: o.poolCreateQps,
      ...(nodesForRestore ? { restoreNodes: nodesForRestore } : {}),
    });
    const poolQ = new WorkQueue({
      workers: o.poolWorkers ?? 2, onError: queueError('warmpool'),
      handler: (key) => metrics.timeReconcile('warmpool', () => poolCtl.reconcile(...splitKey(key))),
    });
    poolCtl.watch((key) => poolQ.add(key));

    const claimCtl = new ClaimController({
      client: o.client, claims, pools, templates, sandboxes, events: extEvents, now, metrics, log,
      enqueue: (key) => claimQ.add(key), maxWarmWaitMs: o.claimMaxWarmWaitMs,
    });
    const claimQ = new WorkQueue({
      workers: o.claimWorkers ?? 16, onError: queueError('claim'),
      handler: (key) => metrics.timeReconcile('claim', () => claimCtl.reconcile(...splitKey(key))),
    });
    claimCtl.watch((key) => claimQ.add(key));
    queues.push(templateQ, poolQ, claimQ);
    if (o.openSandbox) {
      const os = openSandboxControllers({
        client: o.client, inf, templates, warmPools: pools, sandboxes, claims, now,
        guestImage: o.openSandboxGuestImage ?? DEFAULT_GUEST_IMAGE, onError: queueError,
        time: (kind, fn) => metrics.timeReconcile(kind, fn),
      });
      informers.push(...os.informers);
      queues.push(...os.queues);
    }
    metrics.watchQueues({ template: templateQ, warmpool: poolQ, claim: claimQ });
    metrics.collectSandboxes(sandboxes, pools, claims);
    demand = new PoolDemandView(pools, claims, now);
    metrics.collectDemand(demand);
  }
  metrics.watchQueues({ sandbox: sandboxQ });
  if (!o.extensions) metrics.collectSandboxes(sandboxes);

  await Promise.all(informers.map((i) => i.start()));
  // Caches are complete only now: reconciling earlier would act on a partial view.
  for (const q of queues) q.start();
  log('operator started', { namespace: o.namespace ?? '*', extensions: !!o.extensions });

  return {
    metrics,
    sandboxes,
    demand,
    async idle() {
      // Two rounds: finishing one queue can enqueue work in another.
      for (let i = 0; i < 3; i++) await Promise.all(queues.map((q) => q.idle()));
    },
    async stop() {
      for (const q of queues) q.stop();
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
