// test-file-timeout: 30 min
// An agent framework on top (issue 17 §4): examples/agent-framework/, a tool-calling agent built on
// the upstream Agent Sandbox Python client (PyPI k8s-agent-sandbox) and nothing of agentbox's,
// runs its tool calls (run code, write and read files) in a real gVisor pod on the node of
// scripts/k8s-node.sh: the client claims a member of a warm pool from the operator and reaches
// the injected guest through the sandbox router. The model is the example's scripted stand-in
// (no LLM and no internet here); the sandbox, the operator, the router and the client are real.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { KubeClient } from '../../src/k8s/client.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { poolSelector } from '../../src/k8s/extensions/warmpool-controller.ts';
import type { KubeObject, Sandbox, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { ensureRealNode, guestPodSpec, IMAGE } from './real-node.ts';
import { pythonClientReason, runPythonClient } from './python-client.ts';

const root = new URL('../..', import.meta.url).pathname;
const skip = ensureEnv() ?? pythonClientReason();
if (skip) console.log(`# skipping agent framework test: ${skip}`);

interface AgentRun {
  steps: { tool: string; arguments: Record<string, string>; result: Record<string, unknown> }[];
  answer: string;
  claim: string;
  sandbox: string;
}

describe('an agent on the upstream Python client runs its tools in agentbox sandboxes', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns = '';
  let op: RunningOperator | undefined;
  let router: RunningRouter | undefined;
  let nodeSkip: string | undefined;
  const pool = 'agent-pool';

  before(async () => {
    client = await adminClient();
    const node = await ensureRealNode(client);
    if ('skip' in node) { nodeSkip = node.skip; return; }
    await installCrds(client);
    ns = await createNamespace(client, 'agent');
    op = await startOperator({ client, namespace: ns, extensions: true });
    // allow-all on loopback: the client's direct connection mode sends no token (a cluster
    // would put the router behind its gateway; deploy/README.md).
    router = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth: { mode: 'allow-all' }, clusterDomain: '' });
  }, { timeout: 25 * 60_000 });
  after(async () => {
    await router?.close();
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('claims a warm gVisor pod, runs code and moves files there, and gives the claim back', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    // The example's template: the base image (python3) with agentbox's guest injected, which
    // serves the upstream in-pod runtime protocol the client speaks.
    await client.create(TEMPLATES, ns, { metadata: { name: 'python' }, spec: { podTemplate: {
      metadata: { annotations: { 'agentbox.dev/inject-guest': IMAGE.guest } },
      spec: guestPodSpec('agentbox.local/base:latest'),
    } } } as KubeObject);
    await client.create(WARM_POOLS, ns, { metadata: { name: pool }, spec: { replicas: 1, sandboxTemplateRef: { name: 'python' } } } as KubeObject);
    await waitFor('warm member Ready on the node', async () => ((await client.get<SandboxWarmPool>(WARM_POOLS, ns, pool)).status?.readyReplicas === 1 ? true : null), 300_000, 250);
    const [member] = (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: poolSelector(pool) })).items;

    const run = await runPythonClient(join(root, 'examples/agent-framework/main.py'),
      ['--router', `http://127.0.0.1:${router!.port}`, '--namespace', ns, '--warm-pool', pool], 300_000) as unknown as AgentRun;

    assert.equal(run.sandbox, member!.metadata.name, 'the agent got the warm member');
    assert.deepEqual(run.steps.map((s) => s.tool), ['run_code', 'read_file', 'write_file', 'run_code']);
    const [primes, read, write, kernel] = run.steps;
    assert.deepEqual(primes!.result, { stdout: '129\n', stderr: '', exit_code: 0 }, 'the code ran in the sandbox');
    assert.deepEqual(JSON.parse(read!.result.content as string), [2, 3, 5, 7, 11, 13, 17, 19, 23, 29], 'the file the code wrote is read back');
    assert.deepEqual(write!.result, { written: Buffer.byteLength(write!.arguments.content!) });
    assert.match(kernel!.result.stdout as string, /gVisor/, 'the tool code ran under gVisor');
    assert.match(run.answer, /^The first 10 primes sum to 129; computed on: .*gVisor/);
    // The client deletes its claim when the agent is done; the operator then deletes the sandbox.
    await waitFor('claim deleted', async () => ((await client.getOrNull(CLAIMS, ns, run.claim)) === null ? true : null), 60_000);
    await waitFor('sandbox deleted', async () => ((await client.getOrNull(SANDBOXES, ns, run.sandbox)) === null ? true : null), 60_000);
  });
});
