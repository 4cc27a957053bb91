// Kubernetes mode against the local kube-apiserver (npm run k8s:env): warm claim → Ready latency
// and claim throughput, beside cold Sandbox → Ready from the same run. The kubelet is simulated
// (pods are marked Running/Ready through the API, polled every 20 ms) for cold and warm alike,
// so the cold figure is the operator + API path, not container start. Readiness is seen through
// one watch per kind, so the bench does not load the API server it measures. Also a burst of 30
// claims on a pool of 10, the comparison with upstream agent-sandbox.
import { cannotRun, percentileRow, timeOnce, type BenchSuite } from './harness.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../src/k8s/resources.ts';
import { startOperator } from '../src/k8s/operator.ts';
import type { KubeObject, Sandbox, SandboxClaim, SandboxWarmPool } from '../src/api/k8s/types.ts';
import type { KubeClient } from '../src/k8s/client.ts';
import { Informer } from '../src/k8s/informer.ts';
import { adminClient, autoKubelet, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from '../test/k8s/harness.ts';

const WARM = 30;
const COLD = 15;
const BURST = 30;
/** The comparison with upstream: a burst of BURST claims on a pool this small. */
const SMALL_POOL = 10;

const readyOf = (o: { status?: { conditions?: { type: string; status: string }[] } }) =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * Waits for objects of one kind to be Ready through one watch. Polling each object (30 of them
 * every few ms in a burst) would load the API server whose latency is being measured.
 */
async function readyWatch<T extends Sandbox | SandboxClaim>(client: KubeClient, rt: typeof CLAIMS, ns: string) {
  const inf = new Informer<T>(client, rt, { namespace: ns });
  const waiters = new Map<string, () => void>();
  inf.on((_t, o) => { if (readyOf(o)) { waiters.get(o.metadata.name!)?.(); waiters.delete(o.metadata.name!); } });
  await inf.start();
  return {
    until(name: string): Promise<void> {
      const cur = inf.get(ns, name);
      if (cur && readyOf(cur)) return Promise.resolve();
      return new Promise((r) => waiters.set(name, r));
    },
    stop: () => inf.stop(),
  };
}

const suite: BenchSuite = {
  name: 'k8s operator (local kube-apiserver)',
  async run(ctx) {
    const skip = ensureEnv();
    if (skip) cannotRun('k8s', skip);
    const client = await adminClient();
    await installCrds(client);
    const ns = await createNamespace(client, 'bench');
    const op = await startOperator({ client, namespace: ns, extensions: true });
    const stopKubelet = autoKubelet(client, ns, () => true, 20);
    const claimsReady = await readyWatch<SandboxClaim>(client, CLAIMS, ns);
    const sandboxesReady = await readyWatch<Sandbox>(client, SANDBOXES, ns);
    try {
      // Cold: a bare Sandbox, create → Ready.
      const cold: number[] = [];
      for (let i = 0; i < COLD; i++) {
        cold.push(await timeOnce(async () => {
          await client.create<Sandbox>(SANDBOXES, ns, { metadata: { name: `cold-${i}` }, spec: { podTemplate: { spec: basicPodSpec() } } } as Sandbox);
          await sandboxesReady.until(`cold-${i}`);
        }));
      }
      // Warm: claims against a full, ready pool, one at a time.
      await client.create(TEMPLATES, ns, { metadata: { name: 'bench' }, spec: { podTemplate: { spec: basicPodSpec() } } } as KubeObject);
      await client.create(WARM_POOLS, ns, { metadata: { name: 'bench' }, spec: { replicas: WARM, sandboxTemplateRef: { name: 'bench' } } } as KubeObject);
      const poolReady = () => waitFor('pool ready', async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'bench')).status?.readyReplicas === WARM, 120_000, 20);
      await poolReady();
      const warm: number[] = [];
      for (let i = 0; i < WARM; i++) {
        warm.push(await timeOnce(async () => {
          await client.create(CLAIMS, ns, { metadata: { name: `warm-${i}` }, spec: { warmPoolRef: { name: 'bench' } } } as KubeObject);
          await claimsReady.until(`warm-${i}`);
        }));
        await poolReady(); // each claim meets a full pool
      }
      // Throughput: a burst of concurrent claims against the refilled pool, and a burst of cold
      // Sandboxes of the same size.
      const burstMs = await timeOnce(() => Promise.all(Array.from({ length: BURST }, async (_, i) => {
        await client.create(CLAIMS, ns, { metadata: { name: `burst-${i}` }, spec: { warmPoolRef: { name: 'bench' } } } as KubeObject);
        await claimsReady.until(`burst-${i}`);
      })));
      const coldBurstMs = await timeOnce(() => Promise.all(Array.from({ length: BURST }, async (_, i) => {
        await client.create<Sandbox>(SANDBOXES, ns, { metadata: { name: `coldb-${i}` }, spec: { podTemplate: { spec: basicPodSpec() } } } as Sandbox);
        await sandboxesReady.until(`coldb-${i}`);
      })));
      // A burst larger than the pool: each claim's create → Ready, and the burst's rate.
      await client.create(WARM_POOLS, ns, { metadata: { name: 'small' }, spec: { replicas: SMALL_POOL, sandboxTemplateRef: { name: 'bench' } } } as KubeObject);
      await waitFor('small pool ready', async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'small')).status?.readyReplicas === SMALL_POOL, 120_000, 20);
      const overflow: number[] = [];
      const overflowMs = await timeOnce(() => Promise.all(Array.from({ length: BURST }, async (_, i) => {
        overflow.push(await timeOnce(async () => {
          await client.create(CLAIMS, ns, { metadata: { name: `over-${i}` }, spec: { warmPoolRef: { name: 'small' } } } as KubeObject);
          await claimsReady.until(`over-${i}`);
        }));
      })));
      const coldSandbox = { name: 'cold Sandbox → Ready', samples: cold };
      ctx.report(percentileRow(`claim → Ready in a burst of ${BURST} on a pool of ${SMALL_POOL}`, overflow, 50, 'ms', undefined, '≈ 1100 ms upstream v0.5.6 (issue #11, same machine)'));
      ctx.report(percentileRow(`claim → Ready in a burst of ${BURST} on a pool of ${SMALL_POOL}`, overflow, 99, 'ms'));
      ctx.report({ name: `claims/s (burst of ${BURST} on a pool of ${SMALL_POOL})`, value: BURST / (overflowMs / 1000), n: BURST, unit: '/s', computed: `${BURST} ÷ the burst's wall-clock time`, target: '300/s (upstream\'s reported figure)' });
      ctx.report(percentileRow('warm claim → Ready', warm, 50, 'ms', coldSandbox, '≤ 500 ms (upstream green zone; kubelet simulated here)'));
      ctx.report(percentileRow('warm claim → Ready', warm, 99, 'ms', coldSandbox, '≤ 5000 ms (CL2 p99; kubelet simulated here)'));
      ctx.report({ name: `claims/s (burst of ${BURST}, warm)`, value: BURST / (burstMs / 1000), n: BURST, unit: '/s', computed: `${BURST} ÷ the burst's wall-clock time`, baseline: { name: `cold Sandboxes/s (burst of ${BURST})`, value: BURST / (coldBurstMs / 1000) } });
    } finally {
      await claimsReady.stop();
      await sandboxesReady.stop();
      await stopKubelet();
      await op.stop();
      await deleteNamespace(client, ns);
      client.close();
    }
  },
};

export default suite;
