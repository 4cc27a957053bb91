// test-file-timeout: 30 min
// Sandboxes as real pods on the node of scripts/k8s-node.sh (kubelet, containerd, gVisor's shim,
// CNI bridge, local-path PersistentVolumes): nothing here plays the kubelet. A Sandbox runs under
// gVisor, answers kubectl exec and logs, keeps its hostname and its volume's data when its pod is
// recreated; a warm pool's pods become Ready through the injected guest's readiness probe, a claim
// adopts one live, and the router reaches that pod's guest with a scoped token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { PODS, type KubeClient } from '../../src/k8s/client.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import { mintScopedToken } from '../../src/k8s/router/auth.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import { GUEST_PORT } from '../../src/api/envd-protocol.ts';
import { Process } from '../../src/guest/gen/process_pb.ts';
import { readProcessEvents } from '../../src/envd/process-events.ts';
import type { Sandbox, SandboxClaim, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { ensureRealNode, IMAGE, kubectl, NODE_SCHEDULER, podReady } from './real-node.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping real-node tests: ${skip}`);

/** A busybox container that prints its hostname and sleeps: the pod's main process. */
const podSpec = (extra: Record<string, unknown> = {}) => ({
  schedulerName: NODE_SCHEDULER,
  containers: [{
    name: 'main', image: IMAGE.busybox, imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', 'echo "started on $(hostname)"; exec sleep 100000'], ...extra,
  }],
});

describe('sandboxes on a real node', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns = '';
  let op: RunningOperator | undefined;
  let nodeSkip: string | undefined;

  before(async () => {
    client = await adminClient();
    const node = await ensureRealNode(client);
    if ('skip' in node) { nodeSkip = node.skip; return; }
    await installCrds(client);
    ns = await createNamespace(client, 'node');
    op = await startOperator({ client, namespace: ns, extensions: true });
  }, { timeout: 25 * 60_000 });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const exec = (pod: string, ...cmd: string[]) => kubectl('-n', ns, 'exec', pod, '-c', 'main', '--', ...cmd);

  it('runs a Sandbox under gVisor; kubectl exec and logs reach it', { timeout: 180_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await client.create(SANDBOXES, ns, { metadata: { name: 'sb1' }, spec: {
      podTemplate: { spec: podSpec({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }) },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
    } } as unknown as Sandbox);
    const pod = await podReady(client, ns, 'sb1');
    assert.equal(pod.spec.runtimeClassName, 'gvisor');
    assert.match(pod.status?.podIP ?? '', /^10\.244\./, 'an address from the node bridge');
    assert.match(await exec('sb1', 'dmesg'), /gVisor/, 'the kernel the pod sees is gVisor\'s');
    assert.equal((await exec('sb1', 'sh', '-c', 'echo $((6 * 7))')).trim(), '42');
    assert.match(await kubectl('-n', ns, 'logs', 'sb1', '-c', 'main'), /^started on sb1$/m);
  });

  it('keeps the hostname and the volume\'s data when the pod is recreated', { timeout: 180_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    const first = await podReady(client, ns, 'sb1');
    const marker = randomBytes(8).toString('hex');
    await exec('sb1', 'sh', '-c', `echo ${marker} > /data/marker`);
    await client.delete(PODS, ns, 'sb1');
    const second = await podReady(client, ns, 'sb1', first.metadata.uid);
    assert.notEqual(second.metadata.uid, first.metadata.uid, 'a new pod');
    assert.equal((await exec('sb1', 'hostname')).trim(), 'sb1');
    assert.equal((await exec('sb1', 'cat', '/data/marker')).trim(), marker, 'the PVC outlived the pod');
  });

  it('readies a warm pool through the guest\'s probe, adopts a live pod for a claim, and routes to its guest', { timeout: 300_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await client.create(TEMPLATES, ns, { metadata: { name: 'tpl-g' }, spec: { podTemplate: {
      metadata: { annotations: { 'agentbox.dev/inject-guest': IMAGE.guest } },
      // The guest runs as root, as in a single-node sandbox: it makes the runtime's /app and
      // switches users for commands (setgroups), which the operator's default drop-ALL forbids.
      spec: podSpec({ securityContext: { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL'] } } }),
    } } });
    await client.create(WARM_POOLS, ns, { metadata: { name: 'pool-g' }, spec: { replicas: 1, sandboxTemplateRef: { name: 'tpl-g' } } });
    await waitFor('warm pool Ready', async () => {
      const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'pool-g');
      return p.status?.readyReplicas === 1 ? p : null;
    }, 180_000, 250);
    const [member] = (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: `agents.x-k8s.io/warm-pool-sandbox=${nameHash('pool-g')}` })).items;
    const warmPod = await client.get<Pod>(PODS, ns, member!.metadata.name!);
    assert.deepEqual((warmPod.spec.containers[0]!.readinessProbe as { httpGet?: unknown } | undefined)?.httpGet, { path: '/', port: 8888, scheme: 'HTTP' }, 'readiness comes from the guest');
    assert.ok(warmPod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

    await client.create(CLAIMS, ns, { metadata: { name: 'claim-g' }, spec: { warmPoolRef: { name: 'pool-g' } } });
    const claim = await waitFor('claim Ready', async () => {
      const c = await client.get<SandboxClaim>(CLAIMS, ns, 'claim-g');
      return c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ? c : null;
    }, 60_000, 200);
    const name = claim.status!.sandbox!.name!;
    assert.equal(name, member!.metadata.name, 'the claim got the warm member');
    assert.equal((await client.get<Pod>(PODS, ns, name)).metadata.uid, warmPod.metadata.uid, 'adopted live, not recreated');

    const key = randomBytes(32);
    const router: RunningRouter = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth: { mode: 'scoped-token', key }, clusterDomain: '' });
    try {
      const headers = (token?: string): Interceptor => (next) => (req) => {
        req.header.set('X-Sandbox-ID', name);
        req.header.set('X-Sandbox-Namespace', ns);
        req.header.set('X-Sandbox-Port', String(GUEST_PORT));
        if (token) req.header.set('Authorization', `Bearer ${token}`);
        return next(req);
      };
      const processes = (token?: string) => createClient(Process, createConnectTransport({
        baseUrl: `http://127.0.0.1:${router.port}`, httpVersion: '1.1', interceptors: [headers(token)],
      }));
      const runIn = async (token: string | undefined) => {
        let out = '';
        const end = await readProcessEvents(processes(token).start({ process: { cmd: '/bin/sh', args: ['-c', 'hostname; dmesg'], envs: {} } }), {
          onData: (_kind, data) => { out += Buffer.from(data).toString(); },
        });
        return { out, exit: end?.exitCode };
      };
      await assert.rejects(runIn(undefined), /401|unauthenticated/i, 'no token, no exec');
      const other = mintScopedToken(key, ns, 'someone-else', Math.floor(Date.now() / 1000) + 60);
      await assert.rejects(runIn(other), /403|permission/i, 'a token for another sandbox is refused');
      const token = mintScopedToken(key, ns, name, Math.floor(Date.now() / 1000) + 60);
      const r = await runIn(token);
      assert.equal(r.exit, 0);
      assert.equal(r.out.split('\n')[0], name, 'the command ran in the claimed pod');
      assert.match(r.out, /gVisor/, 'under gVisor');
    } finally {
      await router.close();
    }
  });
});
