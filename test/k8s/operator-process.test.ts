// `agentbox operator` as child processes: flags, /healthz and /metrics, leader election on a
// Lease (one leader reconciles; a standby takes over when the leader stops).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { KubeClient, LEASES, PODS } from '../../src/k8s/client.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import { adminClient, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG, waitFor } from './harness.ts';

const root = new URL('../..', import.meta.url).pathname;
const skip = ensureEnv();
if (skip) console.log(`# skipping operator process tests: ${skip}`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc { child: ChildProcess; metrics: number; health: number; stderr: string[] }

async function startOperatorProcess(ns: string): Promise<Proc> {
  const metrics = await freePort();
  const health = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/k8s/fixtures/operator-main.ts'),
    '--kubeconfig', KUBECONFIG, '--namespace', ns, '--extensions', '--leader-elect',
    '--leader-election-namespace', ns, '--leader-election-lease-duration', '3',
    '--enable-webhook=false', `--metrics-bind-address=127.0.0.1:${metrics}`, `--health-probe-bind-address=127.0.0.1:${health}`],
  { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  return { child, metrics, health, stderr };
}

const stop = (p: Proc) => new Promise<number | null>((r) => {
  if (p.child.exitCode !== null) { r(p.child.exitCode); return; }
  p.child.once('exit', (code) => r(code));
  p.child.kill('SIGTERM');
});

describe('operator process with leader election', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  const procs: Proc[] = [];

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'op');
  });
  after(async () => {
    for (const p of procs) await stop(p);
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const holder = async () => (await client.getOrNull<KubeObject & { spec: { holderIdentity?: string } }>(LEASES, ns, 'agentbox-operator-leader'))?.spec.holderIdentity;
  const newSandbox = (name: string) => client.create<Sandbox>(SANDBOXES, ns, { metadata: { name }, spec: { podTemplate: { spec: basicPodSpec() } } } as Sandbox);

  it('one leader reconciles; a standby takes over after the leader stops', async () => {
    procs.push(await startOperatorProcess(ns));
    const first = await waitFor('first leader', holder, 30_000, 100);
    procs.push(await startOperatorProcess(ns));
    await newSandbox('one');
    await waitFor('pod from the leader', () => client.getOrNull(PODS, ns, 'one'), 30_000);
    const health = await fetch(`http://127.0.0.1:${procs[0]!.health}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${procs[0]!.metrics}/metrics`)).text();
    assert.match(metrics, /agentbox_operator_reconcile_duration_seconds_count\{controller="sandbox"\}/);
    assert.match(metrics, /agent_sandbox_build_info/);
    assert.equal(await holder(), first, 'the standby does not steal a live lease');

    assert.equal(await stop(procs[0]!), 0);
    const second = await waitFor('standby takes over', async () => { const h = await holder(); return h && h !== first ? h : null; }, 30_000, 100);
    assert.ok(second);
    await newSandbox('two');
    await waitFor('pod from the new leader', () => client.getOrNull(PODS, ns, 'two'), 30_000);
  });
});
