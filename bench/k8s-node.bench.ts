/**
 * Kubernetes on the real node of scripts/k8s-node.sh (issue 11): real gVisor pods, nothing
 * simulated. Three comparisons, each with its one-machine counterpart from the same run:
 * - cold Sandbox → Ready (busybox pod under gVisor, the kubelet's readiness) beside a cold create
 *   on the embedded engine (`POST /v1/sandboxes` of `busybox` with no pool, gVisor);
 * - warm create → first command through the E2B SDK against `agentbox up --kubernetes` (a claim
 *   from a SandboxWarmPool of `base`, command through the router into the pod's guest) beside
 *   the same SDK against one machine with a warm pool of `base`;
 * - a burst of BURST claims on a pool of POOL real pods: p50, slowest and claims/s until every
 *   claim is Ready (the rest start cold on the node).
 * Run with `npm run bench -- k8s-node` after `npm run k8s:env`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxClaim, SandboxWarmPool } from '../src/api/k8s/types.ts';
import { startKubernetesServer } from '../src/app/kubernetes-server.ts';
import { startOperator } from '../src/k8s/operator.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../src/k8s/resources.ts';
import { startRouter } from '../src/k8s/router/server.ts';
import { loadLatestE2b, sdkManifest } from '../test/e2b/fixture.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from '../test/k8s/harness.ts';
import { ensureRealNode, guestPodSpec, IMAGE, podReady } from '../test/k8s/real-node.ts';
import { startRealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, poolFull, timeMany, timeOnce, type BenchSuite } from './harness.ts';

const COLD = 6;
const WARM = 8;
const BURST = 30;
const POOL = 10;

interface E2bSandbox { commands: { run(cmd: string): Promise<{ exitCode: number }> }; kill(): Promise<void> }
interface E2bSandboxClass { create(template: string, opts: Record<string, unknown>): Promise<E2bSandbox> }

const readyOf = (o: { status?: { conditions?: { type: string; status: string }[] } }) =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const suite: BenchSuite = {
  name: 'Kubernetes on a real node (gVisor pods)',
  async run(ctx) {
    const skip = ensureEnv();
    if (skip) cannotRun('k8s-node', skip);
    const manifest = sdkManifest();
    if (typeof manifest === 'string') cannotRun('k8s-node', manifest);
    const latest = await loadLatestE2b<{ Sandbox: E2bSandboxClass }>(manifest);
    if (typeof latest === 'string') cannotRun('k8s-node', latest);
    const E2b = latest.sdk.Sandbox;
    const client = await adminClient();
    const node = await ensureRealNode(client);
    if ('skip' in node) cannotRun('k8s-node', node.skip);
    await installCrds(client);
    const ns = await createNamespace(client, 'bench-node');
    const op = await startOperator({ client, namespace: ns, extensions: true });
    const auth = { mode: 'scoped-token' as const, key: Buffer.from('b'.repeat(32)) };
    const router = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth, clusterDomain: '' });
    const home = mkdtempSync(join(tmpdir(), 'agentbox-bench-k8s-'));
    const kube = await startKubernetesServer({ client, namespace: ns, router: { url: `http://127.0.0.1:${router.port}`, auth }, home, host: '127.0.0.1', port: 0, log: () => {} });
    const local = await startRealServer('bench-k8s-node', { runtime: 'gvisor', wideSubnet: true });
    if (typeof local === 'string') cannotRun('k8s-node', local);
    try {
      // Cold: a Sandbox of busybox until the kubelet reports its pod Ready, one at a time.
      const cold = [];
      for (let i = 0; i < COLD; i++) {
        const name = `cold-${i}`;
        cold.push(await timeOnce(async () => {
          await client.create(SANDBOXES, ns, { metadata: { name }, spec: { podTemplate: { spec: {
            schedulerName: guestPodSpec(IMAGE.busybox).schedulerName,
            containers: [{ name: 'main', image: IMAGE.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '100000'] }],
          } } } });
          await podReady(client, ns, name);
        }));
        await client.delete(SANDBOXES, ns, name);
      }
      await local.created.templates.ensure('busybox');
      const localCold = await timeMany(COLD, async () => {
        const r = await local.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox' } });
        if (r.status !== 201) throw new Error(`cold create answered ${r.status}`);
        const { id } = (await r.json()) as { id: string };
        await local.api(`/v1/sandboxes/${id}`, { method: 'DELETE' });
      });
      ctx.report(percentileRow('cold Sandbox → pod Ready (busybox, real gVisor pod)', cold, 50, 'ms', { name: 'cold create on one machine (busybox, gVisor)', samples: localCold }));

      // Warm: the E2B SDK's create → first command, on the cluster and on one machine.
      await client.create(TEMPLATES, ns, { metadata: { name: 'base' }, spec: { podTemplate: {
        metadata: { annotations: { 'agentbox.dev/inject-guest': IMAGE.guest } }, spec: guestPodSpec('agentbox.local/base:latest'),
      } } });
      await client.create(WARM_POOLS, ns, { metadata: { name: 'base' }, spec: { replicas: WARM, sandboxTemplateRef: { name: 'base' } } });
      await waitFor('the base warm pool Ready', async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'base')).status?.readyReplicas === WARM, 600_000, 500);
      const e2b = (s: { url: string; adminKey?: string }) => ({ apiKey: s.adminKey, apiUrl: `${s.url}/e2b`, sandboxUrl: `${s.url}/e2b/sandbox` });
      const firstCommand = (opts: Record<string, unknown>) => async () => {
        const sbx = await E2b.create('base', opts);
        if ((await sbx.commands.run('true')).exitCode !== 0) throw new Error('true failed');
        return sbx;
      };
      const kills: Promise<unknown>[] = [];
      const onCluster = [];
      for (let i = 0; i < WARM; i++) onCluster.push(await timeOnce(async () => kills.push((await firstCommand(e2b(kube))()).kill())));
      await local.created.templates.ensure('base');
      await local.api('/v1/pools/base', { method: 'PUT', json: { size: WARM } });
      await poolFull(local.api, 'base', WARM);
      const onMachine = await timeMany(WARM, async () => kills.push((await firstCommand(e2b(local.server))()).kill()));
      await Promise.all(kills.splice(0));
      await local.api('/v1/pools/base', { method: 'DELETE' });
      await client.delete(WARM_POOLS, ns, 'base');
      const machine = { name: `the same on one machine (warm pool of base)`, samples: onMachine };
      ctx.report(percentileRow(`warm create → first command (E2B SDK ${latest.version}, agentbox up --kubernetes)`, onCluster, 50, 'ms', machine));

      // Burst: BURST claims at once on a pool of POOL busybox pods.
      await client.create(TEMPLATES, ns, { metadata: { name: 'tiny' }, spec: { podTemplate: { spec: {
        schedulerName: guestPodSpec(IMAGE.busybox).schedulerName,
        containers: [{ name: 'main', image: IMAGE.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '100000'] }],
      } } } });
      await client.create(WARM_POOLS, ns, { metadata: { name: 'tiny' }, spec: { replicas: POOL, sandboxTemplateRef: { name: 'tiny' } } });
      await waitFor('the tiny warm pool Ready', async () => (await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'tiny')).status?.readyReplicas === POOL, 600_000, 500);
      const t0 = performance.now();
      const burst = await Promise.all(Array.from({ length: BURST }, async (_, i) => {
        const start = performance.now();
        await client.create(CLAIMS, ns, { metadata: { name: `burst-${i}` }, spec: { warmPoolRef: { name: 'tiny' } } });
        await waitFor(`claim burst-${i} Ready`, async () => readyOf(await client.get<SandboxClaim>(CLAIMS, ns, `burst-${i}`)), 600_000, 100);
        return performance.now() - start;
      }));
      const wall = performance.now() - t0;
      ctx.report(percentileRow(`burst of ${BURST} claims on a pool of ${POOL} real pods → Ready`, burst, 50, 'ms'));
      ctx.report(percentileRow(`burst of ${BURST} claims on a pool of ${POOL} real pods → Ready`, burst, 99, 'ms'));
      ctx.report({ name: `claims/s (burst of ${BURST} on a pool of ${POOL}, real pods)`, value: (BURST * 1000) / wall, unit: '/s', n: BURST, computed: `${BURST} ÷ the burst's wall-clock time` });
    } finally {
      await kube.close();
      await router.close();
      await op.stop();
      await local.stop();
      await deleteNamespace(client, ns);
      client.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
};
export default suite;
