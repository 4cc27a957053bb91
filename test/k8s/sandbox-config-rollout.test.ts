// test-file-exclusive: its operator rolls out every SandboxConfig in the cluster and counts the defaults, which another file's would change
// SandboxConfig roll-out (issue 14 §7) against the real API server: the real operator keeps each
// selected node on the runsc of the default SandboxConfig of class gvisor through that node's real
// node agent (HTTP, token), and writes what every node said into the config's status and Events.
// The Node objects are made here (no kubelet behind them: they only carry a name, an
// architecture and the label the operator selects by); their agents run in this process with
// runtime directories of their own, and the binaries are shell scripts answering `--version` as
// runsc does. test/k8s/sandbox-config-real-node.test.ts runs real runsc builds on the real node.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KubeObject, SandboxConfig } from '../../src/api/k8s/types.ts';
import { EVENTS, NODES, type KubeClient } from '../../src/k8s/client.ts';
import { HttpNodeAgents } from '../../src/k8s/node/client.ts';
import { NodeRuntime } from '../../src/k8s/node/runtime.ts';
import { startNodeAgentServer, type RunningNodeAgent } from '../../src/k8s/node/server.ts';
import { NodeSnapshots } from '../../src/k8s/node/snapshots.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { SANDBOX_CONFIGS } from '../../src/k8s/resources.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';

const skip = ensureEnv();

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const script = (version: string) => `#!/bin/sh\necho "runsc version ${version}"\n`;

describe('SandboxConfig roll-out to the nodes through their agents', { skip: skip ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abx-sbxconfig-'));
  const token = randomBytes(24).toString('hex');
  const tag = randomBytes(3).toString('hex');
  const selector = `agentbox.dev/test-runtime=${tag}`;
  /** amd64 and arm64 nodes with runtime directories, and an amd64 node whose agent has none. */
  const nodes = { amd: `rt-amd-${tag}`, arm: `rt-arm-${tag}`, unmanaged: `rt-plain-${tag}` };
  const runtimes = new Map<string, NodeRuntime>();
  const agents: RunningNodeAgent[] = [];
  const urls = new Map<string, string>();
  const configs: string[] = [];
  let client: KubeClient;
  let op: RunningOperator | undefined;
  let ns = '';

  const asset = (name: string, content: string) => {
    const path = join(dir, 'assets', name);
    writeFileSync(path, content);
    chmodSync(path, 0o755);
    return { url: pathToFileURL(path).href, sha256: sha256(content) };
  };
  const createConfig = async (name: string, spec: Record<string, unknown>) => {
    configs.push(name);
    await client.create(SANDBOX_CONFIGS, undefined, { metadata: { name }, spec: { class: 'gvisor', ...spec } } as KubeObject);
  };
  const config = (name: string) => client.get<SandboxConfig>(SANDBOX_CONFIGS, undefined, name);
  const until = (name: string, what: string, ok: (c: SandboxConfig) => boolean) =>
    waitFor(`SandboxConfig ${name}: ${what}`, async () => { const c = await config(name); return ok(c) ? c : null; }, 30_000, 100);
  const ready = (c: SandboxConfig) => c.status?.conditions?.find((x) => x.type === 'Ready');
  const nodeStatus = (c: SandboxConfig, node: string) => c.status?.nodes?.find((n) => n.name === node);
  type Event = KubeObject & { reason?: string; note?: string; regarding?: { name?: string } };
  const events = async (name: string) => (await client.list<Event>(EVENTS, 'default')).items
    .filter((e) => e.regarding?.name === name).map((e) => `${e.reason}: ${e.note}`);

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'sbxcfg');
    mkdirSync(join(dir, 'assets'));
    const initial = asset('initial', script('release-initial'));
    for (const [key, name] of Object.entries(nodes)) {
      await client.create(NODES, undefined, {
        metadata: { name, labels: { 'agentbox.dev/test-runtime': tag } },
        status: { nodeInfo: { architecture: key === 'arm' ? 'arm64' : 'amd64' } },
      } as KubeObject);
      const runtime = key === 'unmanaged' ? undefined : new NodeRuntime({ dir: join(dir, name, 'runtime'), initial: join(dir, 'assets', 'initial') });
      await runtime?.init();
      if (runtime) runtimes.set(name, runtime);
      const agent = await startNodeAgentServer({
        snapshots: new NodeSnapshots({ node: name, runsc: { binary: runtime?.path ?? join(dir, 'assets', 'initial'), root: join(dir, name, 'root') }, dir: join(dir, name, 'snapshots') }),
        runtime, token, host: '127.0.0.1', port: 0,
      });
      agents.push(agent);
      urls.set(name, `http://127.0.0.1:${agent.port}`);
    }
    assert.equal(initial.sha256, (await runtimes.get(nodes.amd)!.state()).sha256);
    op = await startOperator({
      client, namespace: ns, runtimeNodeSelector: selector,
      nodeAgents: new HttpNodeAgents({ token, urlOf: async (node) => urls.get(node)! }),
    });
  });
  after(async () => {
    await op?.stop();
    for (const name of configs) await client.delete(SANDBOX_CONFIGS, undefined, name).catch(() => undefined);
    for (const name of Object.values(nodes)) await client.delete(NODES, undefined, name).catch(() => undefined);
    if (ns) await deleteNamespace(client, ns);
    for (const a of agents) await a.close();
    client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs the default config's binary on every node of its architecture and reports each node in the status", async () => {
    const v1 = asset('v1', script('release-v1'));
    const name = `gvisor-${tag}`;
    await createConfig(name, { default: true, runtime: { version: 'release-v1', assets: { amd64: v1 } } });
    const c = await until(name, 'every node reported', (x) => x.status?.nodes?.length === 3);
    assert.deepEqual(nodeStatus(c, nodes.amd), {
      name: nodes.amd, phase: 'Installed', sha256: v1.sha256, version: 'runsc version release-v1', lastTransitionTime: nodeStatus(c, nodes.amd)!.lastTransitionTime,
    });
    assert.equal(nodeStatus(c, nodes.arm)?.phase, 'Failed');
    assert.equal(nodeStatus(c, nodes.arm)?.message, "no asset for the node's architecture arm64 in spec.runtime.assets");
    assert.equal(nodeStatus(c, nodes.unmanaged)?.phase, 'Failed');
    assert.match(nodeStatus(c, nodes.unmanaged)!.message!, /runs without --runtime-dir, so its runsc is not managed by SandboxConfigs/);
    assert.equal(c.status?.installedNodes, 1);
    assert.equal(c.status?.observedGeneration, c.metadata.generation);
    assert.equal(ready(c)?.status, 'False');
    assert.equal(ready(c)?.reason, 'NodesFailed');

    // The node switched: its link points at the verified binary, the arm64 node kept its own.
    const amd = runtimes.get(nodes.amd)!;
    assert.equal(readlinkSync(amd.path), join('sha256', v1.sha256, 'runsc'));
    assert.equal(readFileSync(amd.path, 'utf8'), script('release-v1'));
    assert.equal(readFileSync(runtimes.get(nodes.arm)!.path, 'utf8'), script('release-initial'));
    await waitFor('events', async () => {
      const ev = await events(name);
      return ev.some((e) => e.startsWith(`RuntimeInstalled: node ${nodes.amd} runs runsc version release-v1`))
        && ev.some((e) => e.startsWith(`RuntimeRefused: node ${nodes.arm}: no asset`)) ? ev : null;
    }, 30_000, 200);

    // With an arm64 asset every node that can runs it, and the config is Ready.
    const v1arm = asset('v1-arm', script('release-v1-arm'));
    await client.patch(SANDBOX_CONFIGS, undefined, name, { spec: { runtime: { assets: { arm64: v1arm } } } });
    const both = await until(name, 'arm64 installed', (x) => nodeStatus(x, nodes.arm)?.phase === 'Installed');
    assert.equal(nodeStatus(both, nodes.arm)?.sha256, v1arm.sha256);
    assert.equal(both.status?.installedNodes, 2);
    assert.equal(readFileSync(runtimes.get(nodes.arm)!.path, 'utf8'), script('release-v1-arm'));
  });

  it('refuses a binary whose sha256 is not the one in the config, and the node keeps the binary it ran', async () => {
    const name = `gvisor-${tag}`;
    const tampered = asset('v2', script('release-v2'));
    await client.patch(SANDBOX_CONFIGS, undefined, name, { spec: { runtime: { version: 'release-v2', assets: { amd64: { url: tampered.url, sha256: 'e'.repeat(64) } } } } });
    const c = await until(name, 'amd64 refused', (x) => nodeStatus(x, nodes.amd)?.phase === 'Failed');
    assert.match(nodeStatus(c, nodes.amd)!.message!, new RegExp(`has sha256 ${tampered.sha256}, but SandboxConfig ${name} says e{64}; not installed`));
    assert.equal(readFileSync(runtimes.get(nodes.amd)!.path, 'utf8'), script('release-v1'));
    await waitFor('RuntimeRefused event', async () => ((await events(name)).some((e) => e.startsWith(`RuntimeRefused: node ${nodes.amd}:`) && e.includes('e'.repeat(64))) ? true : null), 30_000, 200);

    // The right sha256 rolls it out.
    await client.patch(SANDBOX_CONFIGS, undefined, name, { spec: { runtime: { assets: { amd64: tampered } } } });
    await until(name, 'amd64 on v2', (x) => nodeStatus(x, nodes.amd)?.sha256 === tampered.sha256 && nodeStatus(x, nodes.amd)?.phase === 'Installed');
    assert.equal(readFileSync(runtimes.get(nodes.amd)!.path, 'utf8'), script('release-v2'));
  });

  it('installs nothing while two configs are the default of the class, and says so on both and on a non-default one', async () => {
    const first = `gvisor-${tag}`;
    const second = `gvisor-b-${tag}`;
    const spare = `gvisor-spare-${tag}`;
    const v3 = asset('v3', script('release-v3'));
    await createConfig(spare, { runtime: { assets: { amd64: v3 } } });
    await createConfig(second, { default: true, runtime: { assets: { amd64: v3 } } });
    for (const name of [first, second]) {
      const c = await until(name, 'MultipleDefaults', (x) => ready(x)?.reason === 'MultipleDefaults');
      assert.equal(ready(c)?.message, `SandboxConfigs ${[first, second].sort().join(', ')} are all the default of class gvisor; nodes keep their runsc until exactly one is`);
    }
    assert.equal((await until(spare, 'NotDefault', (x) => ready(x)?.reason === 'NotDefault')).status?.installedNodes, 0);
    assert.equal(readFileSync(runtimes.get(nodes.amd)!.path, 'utf8'), script('release-v2'));

    // The first stepping down makes the second the one default: the nodes move to it.
    await client.patch(SANDBOX_CONFIGS, undefined, first, { spec: { default: false } });
    await until(second, 'amd64 on v3', (x) => nodeStatus(x, nodes.amd)?.sha256 === v3.sha256);
    assert.equal(readFileSync(runtimes.get(nodes.amd)!.path, 'utf8'), script('release-v3'));
    assert.equal(ready(await until(first, 'NotDefault', (x) => ready(x)?.reason === 'NotDefault'))?.status, 'False');
  });
});
