// KEDA scaling a SandboxWarmPool with the operator's external scaler, against the real
// kube-apiserver: `agentbox operator --keda-external-scaler-bind-address` as a child process,
// called over real gRPC (connect-node's gRPC transport over HTTP/2, as KEDA's external scaler
// client dials it), and the pool's scale subresource driven exactly as KEDA and its HPA do (GET
// the Scale, write spec.replicas = ceil(metric / target)). KEDA itself is not run: it needs a
// cluster with its own controllers and images, which this machine cannot pull; what it does with
// the answers is the two writes below. The kubelet is played (harness.ts autoKubelet).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { LEASES, type KubeClient } from '../../src/k8s/client.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { ExternalScaler, type IsActiveResponse } from '../../src/k8s/keda/gen/externalscaler_pb.ts';
import { poolSelector } from '../../src/k8s/extensions/warmpool-controller.ts';
import { adminClient, autoKubelet, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { freePort, startOperatorProcess, stopOperatorProcess, type OperatorProc } from './operator-proc.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping KEDA external scaler tests: ${skip}`);

/** autoscaling/v1 Scale, what KEDA's scale client and the HPA read and write. */
interface Scale extends KubeObject { spec: { replicas?: number }; status: { replicas: number; selector?: string } }

describe('KEDA external scaler in the operator', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns = '';
  let op: OperatorProc | undefined;
  let stopKubelet: (() => Promise<void>) | undefined;
  let sessions: Http2SessionManager;
  let scaler: Client<typeof ExternalScaler>;
  const pool = 'agents';

  const ref = (meta: Record<string, string> = {}) => ({ name: 'agents-scaler', namespace: ns, scalerMetadata: { warmPool: pool, ...meta } });
  const scalePath = () => client.path(WARM_POOLS, ns, pool, 'scale');
  const getScale = () => client.request<Scale>('GET', scalePath());
  /** The HPA's write: PUT of the Scale it read, with the replicas it computed. */
  const putScale = async (replicas: number) => {
    const s = await getScale();
    return client.request<Scale>('PUT', scalePath(), { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: s.metadata, spec: { replicas } });
  };
  /** KEDA's own write when it activates a target from zero or returns it there. */
  const patchScale = (replicas: number) => client.patch<Scale>(WARM_POOLS, ns, pool, { spec: { replicas } }, 'merge', 'scale');
  const liveMembers = async () => (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: poolSelector(pool) })).items.filter((s) => !s.metadata.deletionTimestamp);
  const poolAt = (replicas: number, ready: number) => waitFor(`pool ${pool} at ${replicas} members, ${ready} Ready`, async () => {
    const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, pool);
    return p.status?.replicas === replicas && p.status.readyReplicas === ready && (await liveMembers()).length === replicas ? p : null;
  }, 60_000, 200);
  const metricValue = async (meta: Record<string, string> = {}) => {
    const spec = await scaler.getMetricSpec(ref(meta));
    const res = await scaler.getMetrics({ scaledObjectRef: ref(meta), metricName: spec.metricSpecs[0]!.metricName });
    return { target: spec.metricSpecs[0]!.targetSizeFloat, value: res.metricValues[0]!.metricValueFloat, name: res.metricValues[0]!.metricName };
  };
  /** The gauge KEDA's Prometheus scaler would query, read from the operator's /metrics. */
  const gauge = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${op!.metrics}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{namespace="${ns}",warmpool="${pool}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'keda');
    const port = await freePort();
    op = await startOperatorProcess(ns, ['--enable-webhook=false', `--keda-external-scaler-bind-address=127.0.0.1:${port}`]);
    stopKubelet = autoKubelet(client, ns);
    sessions = new Http2SessionManager(`http://127.0.0.1:${port}`);
    scaler = createClient(ExternalScaler, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, sessionManager: sessions }));
    await client.create(TEMPLATES, ns, { metadata: { name: 'python' }, spec: { podTemplate: { spec: basicPodSpec() } } } as KubeObject);
    await client.create(WARM_POOLS, ns, { metadata: { name: pool }, spec: { replicas: 0, sandboxTemplateRef: { name: 'python' } } } as KubeObject);
    // The scaler answers Unavailable until the operator's caches run; it sees the pool after.
    await waitFor('the scaler sees the pool', () => scaler.isActive(ref()).then(() => true, (e: unknown) => {
      if (e instanceof ConnectError && (e.code === Code.Unavailable || e.code === Code.NotFound)) return null;
      throw e;
    }), 60_000, 200);
  });
  after(async () => {
    sessions?.abort();
    await stopKubelet?.();
    if (op) await stopOperatorProcess(op);
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('refuses trigger metadata it cannot use, with a gRPC code and a message saying what to fix', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof ConnectError ? `${Code[e.code]}: ${e.rawMessage}` : String(e)));
    assert.match(await code(scaler.isActive({ name: 'x', namespace: ns, scalerMetadata: {} })), /^InvalidArgument: .*warmPool/);
    assert.match(await code(scaler.getMetricSpec(ref({ windowSeconds: 'soon' }))), /^InvalidArgument: windowSeconds must be a whole number/);
    assert.match(await code(scaler.getMetrics({ scaledObjectRef: ref({ warmPool: 'nope' }), metricName: 'm' })), /^NotFound: SandboxWarmPool .*\/nope does not exist/);
    const stream = scaler.streamIsActive(ref({ warmPool: 'nope' }));
    assert.match(await code((async () => { for await (const _ of stream) return; })()), /^NotFound:/);
  });

  it('activates a pool at zero on a claim, follows the scale subresource up, and returns to zero', async () => {
    // At zero and idle: inactive, and the metric asks for nothing.
    // autoscaling/v1 leaves replicas out when it is 0 (omitempty).
    assert.equal((await getScale()).spec.replicas ?? 0, 0);
    assert.equal((await scaler.isActive(ref())).result, false);
    assert.deepEqual(await metricValue(), { target: 1, value: 0, name: `warmpool-${ns}-${pool}` });
    const abort = new AbortController();
    const stream = scaler.streamIsActive(ref({ windowSeconds: '1' }), { signal: abort.signal })[Symbol.asyncIterator]();
    const next = async () => ((await stream.next()).value as IsActiveResponse).result;
    assert.equal(await next(), false, 'the stream starts with the current answer');

    // A claim for the pool at zero: active, and the metric asks for at least one member (the
    // claim itself is served by a cold start meanwhile).
    await client.create(CLAIMS, ns, { metadata: { name: 'task-1' }, spec: { warmPoolRef: { name: pool } } } as KubeObject);
    assert.equal(await next(), true, 'the stream says active as soon as the claim is seen');
    assert.equal((await scaler.isActive(ref())).result, true);
    const { value, target } = await metricValue();
    assert.ok(value >= 1, `metric ${value}`);
    assert.equal(await waitFor('the Prometheus gauge', async () => ((await gauge('agentbox_warmpool_wanted_replicas')) === value ? value : null), 30_000, 200), value);

    // KEDA activates the target from zero, then its HPA sets ceil(metric / target).
    await patchScale(1);
    await poolAt(1, 1);
    await putScale(Math.ceil(3 / target));
    const scaled = await poolAt(3, 3);
    const scale = await getScale();
    assert.deepEqual({ spec: scale.spec.replicas, status: scale.status.replicas, selector: scale.status.selector }, { spec: 3, status: 3, selector: poolSelector(pool) });
    assert.equal(scaled.spec.replicas, 3);

    // The claim is served and its arrival leaves the stream's 1 s window: inactive again, metric 0.
    assert.equal(await next(), false, 'the stream says inactive once no claim waits and none arrived in the window');
    await client.delete(CLAIMS, ns, 'task-1');
    assert.deepEqual(await metricValue({ windowSeconds: '1' }), { target: 1, value: 0, name: `warmpool-${ns}-${pool}` });
    // KEDA scales an inactive target to zero after its cooldown; the operator follows.
    await patchScale(0);
    await poolAt(0, 0);
    abort.abort();
  });

  it('on a replica standing by for leadership, answers Unavailable (KEDA retries) instead of a wrong demand', async () => {
    // A Lease another live operator holds: this process waits for leadership with its caches off.
    await client.create(LEASES, ns, { metadata: { name: 'agentbox-operator-leader' }, spec: {
      holderIdentity: 'another-operator', leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace('Z', '000Z'),
    } } as KubeObject);
    const port = await freePort();
    const standby = await startOperatorProcess(ns, ['--enable-webhook=false', '--leader-elect', `--leader-election-namespace=${ns}`, `--keda-external-scaler-bind-address=127.0.0.1:${port}`]);
    const sessions = new Http2SessionManager(`http://127.0.0.1:${port}`);
    try {
      const standbyScaler = createClient(ExternalScaler, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, sessionManager: sessions }));
      // Until the process listens, the call fails to connect; then it answers, with our message.
      const err = await waitFor('the standby answers', () => standbyScaler.isActive(ref()).then(
        () => { throw new Error('a standby answered IsActive'); },
        (e: unknown) => (e instanceof ConnectError && /not the leader/.test(e.rawMessage) ? e : null),
      ), 60_000, 200);
      assert.equal(err.code, Code.Unavailable);
      await waitFor('the standby says it waits for leadership', () => (/waiting for leadership/.test(standby.stderr.join('')) ? true : null), 30_000);
    } finally {
      sessions.abort();
      await stopOperatorProcess(standby);
    }
  });
});
