// test-file-timeout: 15 min
// Warm pools from a golden Sandbox on the real node (issue 14 §4): a SandboxTemplate whose pod
// template says `agentbox.dev/fork-from: <golden>` makes every Sandbox of it, warm-pool members
// included, a fork of that running Sandbox, so the members skip its start command. The start
// command here imports pandas in the code-interpreter template's image (its readiness probe waits
// for the import) and then counts in its own memory; the members count on from the golden's
// value, hold its files, and have their own hostnames. The second test is a golden-snapshot pool
// (`agentbox.dev/golden-snapshot` on the SandboxWarmPool): the pool makes and suspends its own
// golden Sandbox, and every member restores that one stored snapshot. Real operator, node agent,
// shim and wrapper.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/k8s/client.ts';
import type { HttpNodeAgents } from '../../src/k8s/node/client.ts';
import type { RunningNodeAgent } from '../../src/k8s/node/server.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { SANDBOX_SNAPSHOTS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox, SandboxSnapshot, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { ensureGvisorNode, kubectl, NODE_DIR, NODE_SCHEDULER, pythonPodTemplate, startRealNodeAgent } from './real-node.ts';

const skip = ensureEnv();

describe('warm pool filled from a golden Sandbox on the real node', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let agent: RunningNodeAgent | undefined;
  let op: RunningOperator | undefined;
  let ns = '';
  let nodeSkip: string | undefined;

  before(async () => {
    client = await adminClient();
    const node = await ensureGvisorNode(client);
    if ('skip' in node) { nodeSkip = node.skip; return; }
    await installCrds(client);
    ns = await createNamespace(client, 'golden');
    let nodeAgents: HttpNodeAgents;
    ({ agent, nodeAgents } = await startRealNodeAgent(client, node));
    op = await startOperator({ client, namespace: ns, extensions: true, nodeAgents });
  }, { timeout: 25 * 60_000 });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    await agent?.close();
    client?.close();
  });

  const exec = async (name: string, script: string) => (await kubectl('-n', ns, 'exec', name, '-c', 'main', '--', 'sh', '-c', script)).trim();
  /** For a timeout's message: each Sandbox's conditions and the namespace's events (CI keeps no other trace of a run). */
  const whereThingsStand = async () => {
    const sandboxes = (await client.list<Sandbox>(SANDBOXES, ns)).items.map((s) => `${s.metadata.name}: ${JSON.stringify(s.status?.conditions ?? [])}`);
    const events = await kubectl('-n', ns, 'get', 'events', '--sort-by=.lastTimestamp', '-o', 'custom-columns=AT:.lastTimestamp,OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message').catch((e: Error) => e.message);
    return [...sandboxes, events].join('\n');
  };
  const ready = (sb: Sandbox) => (sb.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

  it("fills the pool with copies of the golden Sandbox: its start done, its memory and files, their own hostnames", { timeout: 900_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await client.create<Sandbox>(SANDBOXES, ns, { metadata: { name: 'golden' }, spec: { podTemplate: pythonPodTemplate(NODE_SCHEDULER) } } as KubeObject as Sandbox);
    await waitFor('golden Ready (pandas imported)', async () => (ready(await client.get<Sandbox>(SANDBOXES, ns, 'golden')) ? true : null), 300_000, 200);
    const imported = await exec('golden', 'cat /tmp/ready');

    await client.create(TEMPLATES, ns, { metadata: { name: 'py' }, spec: { podTemplate: pythonPodTemplate(NODE_SCHEDULER, { 'agentbox.dev/fork-from': 'golden' }) } } as KubeObject);
    await client.create(WARM_POOLS, ns, { metadata: { name: 'py' }, spec: { replicas: 2, sandboxTemplateRef: { name: 'py' } } } as KubeObject);
    await waitFor('the pool Ready', async () => ((await client.get<SandboxWarmPool>(WARM_POOLS, ns, 'py')).status?.readyReplicas === 2 ? true : null), 300_000, 200)
      .catch(async (e: Error) => { throw new Error(`${e.message}\n${await whereThingsStand()}`); });
    const members = (await client.list<Sandbox>(SANDBOXES, ns)).items.filter((s) => s.metadata.name !== 'golden');
    assert.equal(members.length, 2);
    const goldenCount = Number(await exec('golden', 'cat /tmp/count'));
    for (const m of members) {
      const name = m.metadata.name!;
      assert.equal(JSON.parse(m.metadata.annotations!['agentbox.dev/forked']!).from, 'golden');
      assert.equal(await exec(name, 'cat /tmp/ready'), imported, "the golden's import, not one of its own");
      const count = Number(await exec(name, 'cat /tmp/count'));
      assert.ok(Math.abs(count - goldenCount) < 5_000, `member ${name} counts on from the golden's value (${count} against ${goldenCount}), not from a fresh random start`);
      assert.equal(await exec(name, 'hostname'), name);
    }
  });

  it('fills a golden-snapshot pool from one stored snapshot of its own golden Sandbox, taken once the start command is done', { timeout: 900_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await client.create(TEMPLATES, ns, { metadata: { name: 'py-snap' }, spec: { podTemplate: pythonPodTemplate(NODE_SCHEDULER) } } as KubeObject);
    await client.create(WARM_POOLS, ns, {
      metadata: { name: 'snap', annotations: { 'agentbox.dev/golden-snapshot': 'true' } },
      spec: { replicas: 2, sandboxTemplateRef: { name: 'py-snap' } },
    } as KubeObject);
    const pool = () => client.get<SandboxWarmPool>(WARM_POOLS, ns, 'snap');
    await waitFor('the pool Ready from its golden snapshot', async () => ((await pool()).status?.readyReplicas === 2 ? true : null), 400_000, 200);
    const golden = await client.get<Sandbox>(SANDBOXES, ns, 'snap-golden');
    assert.equal(golden.spec.operatingMode, 'Suspended');
    const stored = JSON.parse(golden.metadata.annotations!['agentbox.dev/hibernation-snapshot']!) as { id: string };
    const condition = (await pool()).status?.conditions?.find((c) => c.type === 'GoldenSnapshotReady');
    assert.equal(condition?.status, 'True');
    assert.match(condition!.message!, new RegExp(`memory snapshot ${stored.id} of golden Sandbox snap-golden`));

    const poolMembers = async () => (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: `agents.x-k8s.io/warm-pool-sandbox` })).items
      .filter((s) => s.metadata.ownerReferences?.[0]?.name === 'snap' && !s.metadata.deletionTimestamp);
    const check = async (members: Sandbox[]) => {
      const seen: { ready: string; count: number }[] = [];
      for (const m of members) {
        const name = m.metadata.name!;
        const forked = JSON.parse(m.metadata.annotations!['agentbox.dev/forked']!) as { from: string; snapshot: string };
        assert.deepEqual([forked.from, forked.snapshot], ['snap-golden', stored.id], `member ${name} restored the golden's stored snapshot, no checkpoint of its own`);
        seen.push({ ready: await exec(name, 'cat /tmp/ready'), count: Number(await exec(name, 'cat /tmp/count')) });
        assert.equal(await exec(name, 'hostname'), name);
      }
      return seen;
    };
    const first = await check(await poolMembers());
    assert.equal(first.length, 2);
    // Each member's grant to the golden's snapshot went once it ran: a container that restarts starts fresh.
    const grants = join(NODE_DIR, 'snapshots', ns, stored.id, 'restore-grants', ns);
    await waitFor('the members\' restore grants revoked', async () => ((await poolMembers()).every((m) => !existsSync(join(grants, m.metadata.name!))) ? true : null), 30_000, 200);
    // The kernel's random source is not restored into the same state in every member.
    const [a, b] = await Promise.all((await poolMembers()).map((m) => exec(m.metadata.name!, 'head -c 16 /dev/urandom | od -An -tx1')));
    assert.notEqual(a, b, 'each member draws its own bytes from /dev/urandom');
    assert.equal(first[0]!.ready, first[1]!.ready, "both hold the golden's one import, not imports of their own");
    assert.ok(Math.abs(first[0]!.count - first[1]!.count) < 5_000, `both count on from the golden's value (${first[0]!.count}, ${first[1]!.count}), not from fresh random starts`);

    // The snapshot stays with the golden after the restores, so a later member restores it too.
    const snapshots = async () => (await client.list<SandboxSnapshot>(SANDBOX_SNAPSHOTS, ns)).items.filter((x) => x.spec.sandboxName === 'snap-golden');
    assert.deepEqual((await snapshots()).map((x) => x.metadata.name), [stored.id]);
    await client.patch(WARM_POOLS, ns, 'snap', { spec: { replicas: 3 } });
    await waitFor('a third member Ready', async () => ((await pool()).status?.readyReplicas === 3 ? true : null), 300_000, 200);
    const all = await check(await poolMembers());
    assert.equal(all.length, 3);
    assert.ok(all.every((m) => m.ready === first[0]!.ready));

    // Deleting the pool deletes its golden Sandbox, and with it the snapshot's object and data.
    await client.delete(WARM_POOLS, ns, 'snap');
    await waitFor('the golden snapshot deleted', async () => ((await snapshots()).length === 0 ? true : null), 120_000, 500);
    assert.equal(await client.getOrNull(SANDBOXES, ns, 'snap-golden'), null);
  });
});
