// `agentbox operator` as child processes: flags, /healthz and /metrics, leader election on a
// Lease (one leader reconciles; a standby takes over when the leader stops), and out of cluster
// without one (no Lease by default; a clear failure when asked for one in a missing namespace).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient, LEASES, PODS } from '../../src/k8s/client.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import { adminClient, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { startOperatorProcess, stopOperatorProcess, type OperatorProc } from './operator-proc.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping operator process tests: ${skip}`);

/** A suite's namespace and the operator processes its tests start (all stopped after it). */
function suiteFixture(prefix: string) {
  const fx = { client: undefined as unknown as KubeClient, ns: '', procs: [] as OperatorProc[] };
  before(async () => {
    fx.client = await adminClient();
    await installCrds(fx.client);
    fx.ns = await createNamespace(fx.client, prefix);
  });
  after(async () => {
    for (const p of fx.procs) await stopOperatorProcess(p);
    if (fx.ns) await deleteNamespace(fx.client, fx.ns);
    fx.client?.close();
  });
  return fx;
}

const newSandbox = (client: KubeClient, ns: string, name: string) =>
  client.create<Sandbox>(SANDBOXES, ns, { metadata: { name }, spec: { podTemplate: { spec: basicPodSpec() } } } as Sandbox);

describe('operator process with leader election', { skip: skip ?? false }, () => {
  const fx = suiteFixture('op');
  const startOperator = () => startOperatorProcess(fx.ns, ['--leader-elect', '--leader-election-namespace', fx.ns, '--leader-election-lease-duration', '3', '--enable-webhook=false']);
  const holder = async () => (await fx.client.getOrNull<KubeObject & { spec: { holderIdentity?: string } }>(LEASES, fx.ns, 'agentbox-operator-leader'))?.spec.holderIdentity;

  it('one leader reconciles; a standby takes over after the leader stops', async () => {
    const { client, ns, procs } = fx;
    procs.push(await startOperator());
    const first = await waitFor('first leader', holder, 30_000, 100);
    procs.push(await startOperator());
    await newSandbox(client, ns, 'one');
    await waitFor('pod from the leader', () => client.getOrNull(PODS, ns, 'one'), 30_000);
    const health = await fetch(`http://127.0.0.1:${procs[0]!.health}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${procs[0]!.metrics}/metrics`)).text();
    assert.match(metrics, /agentbox_operator_reconcile_duration_seconds_count\{controller="sandbox"\}/);
    assert.match(metrics, /agent_sandbox_build_info/);
    assert.equal(await holder(), first, 'the standby does not steal a live lease');

    assert.equal(await stopOperatorProcess(procs[0]!), 0);
    const second = await waitFor('standby takes over', async () => { const h = await holder(); return h && h !== first ? h : null; }, 30_000, 100);
    assert.ok(second);
    await newSandbox(client, ns, 'two');
    await waitFor('pod from the new leader', () => client.getOrNull(PODS, ns, 'two'), 30_000);
  });
});

describe('operator process out of cluster', { skip: skip ?? false }, () => {
  const fx = suiteFixture('op-ooc');

  it('runs without leader election by default: it reconciles and writes no Lease', async () => {
    const { client, ns, procs } = fx;
    const p = await startOperatorProcess(ns, ['--enable-webhook=false']);
    procs.push(p);
    await newSandbox(client, ns, 'solo');
    await waitFor('pod from the operator', () => client.getOrNull(PODS, ns, 'solo'), 30_000);
    assert.equal(await client.getOrNull(LEASES, ns, 'agentbox-operator-leader'), null);
    assert.doesNotMatch(p.stderr.join(''), /waiting for leadership/);
  });

  it('with --leader-elect and a namespace that does not exist, exits with a message saying so', async () => {
    const missing = `${fx.ns}-missing`;
    const p = await startOperatorProcess(fx.ns, ['--enable-webhook=false', '--leader-elect', `--leader-election-namespace=${missing}`]);
    fx.procs.push(p);
    // 'close' rather than 'exit': stderr is read to its end before the message is checked.
    const code = await new Promise<number | null>((r) => p.child.once('close', (c) => r(c)));
    assert.equal(code, 1);
    const err = p.stderr.join('');
    assert.match(err, new RegExp(`not_found: leader election needs the namespace "${missing}"`));
    assert.match(err, /--leader-election-namespace/);
  });
});
