// test-file-timeout: 15 min
// test-file-exclusive: it points the real node's runsc wrapper at other runsc builds, under which other files' pods would start and their snapshots be refused
// SandboxConfig-installed runsc on the real node (issue 14 §7): the real operator rolls the
// default SandboxConfig out to the node through the real node agent, which fetches the binary,
// checks its sha256 and that it runs, and switches the node's runtime link, which the node's runsc
// wrapper runs under the real gVisor shim. A memory snapshot then pins that binary: once the
// config moves the node to another build, the snapshot is refused with that reason, and it
// restores again, memory and all, once the config moves the node back.
//
// The two builds are the runsc of scripts/build-runsc.sh with 8 random bytes appended (a binary
// runs the same with trailing bytes; its sha256 differs), so the test needs no second gVisor build.
// The node's wrapper is pointed at this test's runtime link for its duration and restored after.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PODS, type KubeClient } from '../../src/k8s/client.ts';
import type { HttpNodeAgents } from '../../src/k8s/node/client.ts';
import { parseManifest, sha256OfFile } from '../../src/k8s/node/manifest.ts';
import { NodeRuntime } from '../../src/k8s/node/runtime.ts';
import { findPodSandbox, sandboxBinary } from '../../src/k8s/node/runsc.ts';
import type { RunningNodeAgent } from '../../src/k8s/node/server.ts';
import { renderWrapper } from '../../src/k8s/node/wrapper.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { SANDBOX_CONFIGS, SANDBOXES } from '../../src/k8s/resources.ts';
import { snapshotOf } from '../../src/k8s/sandbox/hibernation.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import type { KubeObject, Sandbox, SandboxConfig } from '../../src/api/k8s/types.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { ensureGvisorNode, IMAGE, kubectl, NODE_DIR, NODE_SCHEDULER, RUNSC_WRAPPER, startRealNodeAgent } from './real-node.ts';

const skip = ensureEnv();
const COUNTER = 'i=$(( (RANDOM << 15 | RANDOM) * 1000 )); while true; do i=$((i + 1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.05; done';

type Cond = { type: string; status: string; reason: string; message: string };
const cond = (sb: Sandbox | null, type: string) => (sb?.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

describe('SandboxConfig-installed runsc on the real node', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let agent: RunningNodeAgent | undefined;
  let op: RunningOperator | undefined;
  let runtime: NodeRuntime;
  let ns = '';
  let nodeName = '';
  let nodeSkip: string | undefined;
  let originalWrapper = '';
  let runtimeDir = '';
  const config = `gvisor-${randomBytes(3).toString('hex')}`;
  const builds: Record<'a' | 'b', { url: string; sha256: string }> = { a: { url: '', sha256: '' }, b: { url: '', sha256: '' } };

  before(async () => {
    client = await adminClient();
    const node = await ensureGvisorNode(client);
    if ('skip' in node) { nodeSkip = node.skip; return; }
    nodeName = node.name;
    const runsc = node.runsc;
    originalWrapper = readFileSync(RUNSC_WRAPPER, 'utf8');
    await installCrds(client);
    const others = (await client.list<SandboxConfig>(SANDBOX_CONFIGS)).items
      .filter((c) => (c.spec as { class?: string; default?: boolean }).class === 'gvisor' && (c.spec as { default?: boolean }).default);
    assert.deepEqual(others.map((c) => c.metadata.name), [], 'no other default SandboxConfig of class gvisor may exist while this test runs');
    ns = await createNamespace(client, 'sbxrn');
    runtimeDir = join(NODE_DIR, `runtime-${ns}`);
    mkdirSync(join(runtimeDir, 'assets'), { recursive: true });
    for (const k of ['a', 'b'] as const) {
      const path = join(runtimeDir, 'assets', `runsc-${k}`);
      copyFileSync(runsc, path);
      writeFileSync(path, randomBytes(8), { flag: 'a' });
      builds[k] = { url: pathToFileURL(path).href, sha256: await sha256OfFile(path) };
    }
    runtime = new NodeRuntime({ dir: runtimeDir, initial: runsc });
    await runtime.init();
    writeFileSync(RUNSC_WRAPPER, renderWrapper({ runsc: runtime.path, snapshots: join(NODE_DIR, 'snapshots') }));

    let nodeAgents: HttpNodeAgents;
    ({ agent, nodeAgents } = await startRealNodeAgent(client, node, { runtime }));
    op = await startOperator({ client, namespace: ns, runtimeNodeSelector: `kubernetes.io/hostname=${nodeName}`, nodeAgents });
  }, { timeout: 25 * 60_000 });
  after(async () => {
    // The node's own wrapper first: nothing after this test may run the test's builds.
    if (originalWrapper) writeFileSync(RUNSC_WRAPPER, originalWrapper);
    await op?.stop();
    await client?.delete(SANDBOX_CONFIGS, undefined, config).catch(() => undefined);
    if (ns) await deleteNamespace(client, ns);
    await agent?.close();
    if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
    client?.close();
  });

  const getConfig = () => client.get<SandboxConfig>(SANDBOX_CONFIGS, undefined, config);
  const installed = (sha: string) => waitFor(`node ${nodeName} runs ${sha.slice(0, 12)}`, async () => {
    const n = (await getConfig()).status?.nodes?.find((x) => x.name === nodeName);
    if (n?.phase === 'Failed') throw new Error(`the node refused the build: ${n.message}`);
    return n?.sha256 === sha ? n : null;
  }, 120_000, 200);
  const useBuild = (k: 'a' | 'b') => client.patch(SANDBOX_CONFIGS, undefined, config, { spec: { runtime: { version: `test-build-${k}`, assets: { amd64: builds[k] } } } });
  const get = (name: string) => client.get<Sandbox>(SANDBOXES, ns, name);
  const until = (name: string, what: string, ok: (sb: Sandbox) => boolean, ms = 180_000) =>
    waitFor(`${name}: ${what}`, async () => { const sb = await get(name); return ok(sb) ? sb : null; }, ms, 100);
  const ready = (sb: Sandbox) => cond(sb, 'Ready')?.status === 'True';
  const setMode = (name: string, operatingMode: 'Suspended' | 'Running') => client.patch(SANDBOXES, ns, name, { spec: { operatingMode } });
  const exec = async (name: string, script: string) => (await kubectl('-n', ns, 'exec', name, '-c', 'main', '--', 'sh', '-c', script)).trim();
  /** sha256 of the runsc binary the pod's gVisor sandbox runs, from its sentry process. */
  const sentryBinary = async (name: string) => {
    const pod = await client.get<Pod>(PODS, ns, name);
    const sandbox = await findPodSandbox({ binary: runtime.path, root: join(NODE_DIR, 'containerd/runsc/k8s.io') }, { namespace: ns, name, uid: pod.metadata.uid! });
    return sha256OfFile((await sandboxBinary(sandbox.pid))!);
  };

  it('runs pods on the build the SandboxConfig names; a snapshot pins it, is refused under another build and restores under its own', { timeout: 900_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await client.create(SANDBOX_CONFIGS, undefined, {
      metadata: { name: config }, spec: { class: 'gvisor', default: true, runtime: { version: 'test-build-a', assets: { amd64: builds.a } } },
    } as KubeObject);
    const onA = await installed(builds.a.sha256);
    assert.match(onA.version!, /^runsc version /);

    await client.create<Sandbox>(SANDBOXES, ns, {
      metadata: { name: 'counter', annotations: { 'agentbox.dev/hibernation': 'memory' } },
      spec: { podTemplate: { spec: {
        schedulerName: NODE_SCHEDULER, terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: IMAGE.busybox, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', COUNTER] }],
      } } },
    } as KubeObject as Sandbox);
    await until('counter', 'Ready', ready);
    assert.equal(await sentryBinary('counter'), builds.a.sha256, "the pod's sentry is build a");
    await exec('counter', 'echo kept > /tmp/marker');
    const before = Number(await exec('counter', 'cat /tmp/count'));

    await setMode('counter', 'Suspended');
    const snap = snapshotOf(await until('counter', 'suspended', (sb) => cond(sb, 'Suspended')?.status === 'True'))!;
    const manifest = parseManifest(readFileSync(join(NODE_DIR, 'snapshots', ns, snap.id, 'manifest.json'), 'utf8'));
    assert.equal(manifest.runtime.sha256, builds.a.sha256, 'the snapshot pins build a');

    // The node moves to build b: the snapshot of build a is refused, with why, and no pod starts.
    await useBuild('b');
    await installed(builds.b.sha256);
    await setMode('counter', 'Running');
    const refused = await until('counter', 'restore refused', (sb) => cond(sb, 'Hibernated')?.reason === 'RestoreFailed');
    assert.match(cond(refused, 'Hibernated')!.message, new RegExp(`was taken by a different runsc binary \\(sha256 ${builds.a.sha256.slice(0, 12)}…\\) than this node runs \\(${builds.b.sha256.slice(0, 12)}…\\)`));
    assert.equal(await client.getOrNull<Pod>(PODS, ns, 'counter'), null, 'no pod is started without its memory');

    // Back on build a, the same snapshot restores: the counter goes on, the file is there.
    await useBuild('a');
    await installed(builds.a.sha256);
    await setMode('counter', 'Suspended');
    await setMode('counter', 'Running');
    await until('counter', 'Ready after restore', ready);
    const after = Number(await exec('counter', 'cat /tmp/count'));
    assert.ok(after > before && after - before < 5_000, `the counter went on from ${before} (now ${after}), not from a new random start`);
    assert.equal(await exec('counter', 'cat /tmp/marker'), 'kept');
    assert.equal(await sentryBinary('counter'), builds.a.sha256, 'restored by build a');
  });
});
