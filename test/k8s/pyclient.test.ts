// Compatibility: the upstream Python client (PyPI k8s-agent-sandbox, in a venv made by
// scripts/k8s-pyclient.sh) creates a claim against the operator and runs a command through the
// router, against a "pod" whose guest runtime is a local process on a loopback address.
// The pod is a local guest process (the kubelet is played): the upstream client's protocol is
// what is tested here; real gVisor pods reached through the router are in real-node.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KubeClient, PODS } from '../../src/k8s/client.ts';
import { CLAIMS, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import type { KubeObject } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { adminClient, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, markPodReady, waitFor } from './harness.ts';
import { startRuntimeProcess, type RuntimeProcess } from './runtime-process.ts';
import { pythonClientReason, runPythonClient } from './python-client.ts';

const root = new URL('../..', import.meta.url).pathname;

const skip = ensureEnv() ?? pythonClientReason();
if (skip) console.log(`# skipping python client test: ${skip}`);

describe('PyPI k8s-agent-sandbox client against agentbox', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let op: RunningOperator;
  let router: RunningRouter;
  let runtime: RuntimeProcess;
  const podIp = '127.1.200.1';

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'py');
    op = await startOperator({ client, namespace: ns, extensions: true });
    router = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth: { mode: 'allow-all' } });
    runtime = await startRuntimeProcess(podIp, 8888);
  });
  after(async () => {
    await runtime?.stop();
    await router?.close();
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('creates a claim, runs a command and moves files through the router', async () => {
    await client.create(TEMPLATES, ns, { metadata: { name: 'python' }, spec: { podTemplate: { spec: basicPodSpec() } } } as KubeObject);
    await client.create(WARM_POOLS, ns, { metadata: { name: 'py-pool' }, spec: { replicas: 1, sandboxTemplateRef: { name: 'python' } } } as KubeObject);
    // Play the kubelet for the one warm pod: its "container" is the runtime process.
    const pod = await waitFor('warm pod', async () => (await client.list<Pod>(PODS, ns)).items[0]);
    await markPodReady(client, ns, pod.metadata.name!, podIp);
    await waitFor('pool ready', async () => ((await client.get<KubeObject & { status?: { readyReplicas?: number } }>(WARM_POOLS, ns, 'py-pool')).status?.readyReplicas === 1 ? true : null));

    const out = await runPythonClient(join(root, 'test/k8s/fixtures/pyclient.py'), [`http://127.0.0.1:${router.port}`, ns, 'py-pool']);
    assert.match(out.claim as string, /^sandbox-claim-[0-9a-f]{8}$/);
    assert.equal(out.sandbox, pod.metadata.name, 'the warm sandbox was adopted');
    assert.deepEqual(out.exec, { stdout: 'hello-from-agentbox\n', stderr: '', exit_code: 0 });
    assert.equal(out.read, 'written by python');
    assert.deepEqual(out.list, ['a.txt']);
    assert.deepEqual(out.exists, [true, false]);
    assert.equal((out.status as string[])[0], 'SandboxReady');
    await waitFor('claim deleted by terminate()', async () => (await client.getOrNull(CLAIMS, ns, out.claim as string)) === null);
  });
});
