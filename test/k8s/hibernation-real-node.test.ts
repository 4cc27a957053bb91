// test-file-timeout: 20 min
// Memory hibernation on the real node of scripts/k8s-node.sh (issue 14 §1–2): a Sandbox with
// `agentbox.dev/hibernation: memory` is suspended and resumed by the real operator; the real node
// agent checkpoints its gVisor pod with runsc against the shim's state, and the new pod is
// restored by the node's runsc wrapper under the real gVisor shim. The node agent runs in this
// process, on the machine that is the node, listening at the node's InternalIP where the operator
// finds it (a cluster runs it as the DaemonSet in deploy/). Each checkpoint is a SandboxSnapshot
// object (issue 14 §3) whose deletion, by hand or with its Sandbox, removes the data on the node.
// Everything runs twice: with node-local snapshots (the default) and with the node agent keeping
// them in a real S3-compatible server on loopback (moto, scripts/s3-server.sh), where a snapshot
// whose node copy is gone is downloaded, verified and restored, and another node's agent can too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { AgentboxError } from '../../src/api/errors.ts';
import { PODS, type KubeClient } from '../../src/k8s/client.ts';
import { startOperator, type RunningOperator } from '../../src/k8s/operator.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import { SANDBOX_SNAPSHOTS, SANDBOXES } from '../../src/k8s/resources.ts';
import type { HttpNodeAgents } from '../../src/k8s/node/client.ts';
import type { RunningNodeAgent } from '../../src/k8s/node/server.ts';
import { NodeSnapshots } from '../../src/k8s/node/snapshots.ts';
import { S3SnapshotStore } from '../../src/k8s/node/store.ts';
import { snapshotOf } from '../../src/k8s/sandbox/hibernation.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import type { KubeObject, Sandbox, SandboxSnapshot } from '../../src/api/k8s/types.ts';
import { s3Skip, startS3Server, type RunningS3 } from '../support/s3-server.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';
import { ensureGvisorNode, IMAGE, kubectl, NODE_DIR, NODE_SCHEDULER, startRealNodeAgent } from './real-node.ts';

const skip = ensureEnv();

type Cond = { type: string; status: string; reason: string; message: string };
const cond = (sb: Sandbox | null, type: string) => (sb?.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

// A counter in the shell's memory from a random start: a fresh start would be elsewhere. Each
// value is written to a new file renamed over the old, so a read never sees a half-written one.
const COUNTER = 'i=$(( (RANDOM << 15 | RANDOM) * 1000 )); while true; do i=$((i + 1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.05; done';

for (const storage of ['Node', 'S3'] as const) describe(`memory hibernation of Sandboxes on the real node (snapshots: ${storage})`, { skip: skip ?? (storage === 'S3' && s3Skip()) ?? false }, () => {
  /** Suspend and resume figures for the report, printed at the end. */
  const timings: Record<string, number> = {};
  let client: KubeClient;
  let agent: RunningNodeAgent | undefined;
  let s3: RunningS3 | undefined;
  let store: S3SnapshotStore | undefined;
  let runsc = '';
  let op: RunningOperator | undefined;
  let router: RunningRouter | undefined;
  let ns = '';
  let nodeName = '';
  let nodeSkip: string | undefined;

  before(async () => {
    client = await adminClient();
    const node = await ensureGvisorNode(client);
    if ('skip' in node) { nodeSkip = node.skip; return; }
    nodeName = node.name;
    runsc = node.runsc;
    await installCrds(client);
    ns = await createNamespace(client, 'hib');
    if (storage === 'S3') {
      s3 = await startS3Server(`agentbox-${ns}`);
      store = new S3SnapshotStore({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', prefix: 'snapshots/' });
    }
    let nodeAgents: HttpNodeAgents;
    ({ agent, nodeAgents } = await startRealNodeAgent(client, node, { store }));
    // With a store, a snapshot whose node is gone is restored on another node of the real node's label.
    op = await startOperator({ client, namespace: ns, nodeAgents, ...(storage === 'S3' ? { restoreNodeSelector: 'agentbox.dev/real-node=true' } : {}) });
    // Traffic is written every 500 ms so that a short idle limit can be tested.
    router = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth: { mode: 'allow-all' }, clusterDomain: '', activityFlushMs: 500 });
  }, { timeout: 25 * 60_000 });
  after(async () => {
    if (Object.keys(timings).length) console.log(`# hibernation timings (ms): ${JSON.stringify(timings)}`);
    await router?.close();
    await op?.stop();
    // The agent after the operator, its only client.
    if (ns) await deleteNamespace(client, ns);
    await agent?.close();
    store?.close();
    await s3?.stop();
    client?.close();
  });

  const sandbox = (name: string, command: string, annotations: Record<string, string> = {}) => client.create<Sandbox>(SANDBOXES, ns, {
    metadata: { name, annotations: { 'agentbox.dev/hibernation': 'memory', ...annotations } },
    spec: {
      service: true,
      podTemplate: { spec: {
        schedulerName: NODE_SCHEDULER, terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: IMAGE.busybox, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', command] }],
      } },
    },
  } as KubeObject as Sandbox);
  const get = (name: string) => client.get<Sandbox>(SANDBOXES, ns, name);
  const until = (name: string, what: string, ok: (sb: Sandbox) => boolean, ms = 180_000) =>
    waitFor(`${name}: ${what}`, async () => { const sb = await get(name); return ok(sb) ? sb : null; }, ms, 100);
  const ready = (sb: Sandbox) => cond(sb, 'Ready')?.status === 'True';
  const suspended = (sb: Sandbox) => cond(sb, 'Suspended')?.status === 'True';
  const setMode = (name: string, operatingMode: 'Suspended' | 'Running') => client.patch(SANDBOXES, ns, name, { spec: { operatingMode } });
  const exec = async (name: string, script: string) => (await kubectl('-n', ns, 'exec', name, '-c', 'main', '--', 'sh', '-c', script)).trim();
  const count = async (name: string) => Number(await exec(name, 'cat /tmp/count'));
  const snapshotDir = (id: string) => join(NODE_DIR, 'snapshots', ns, id);
  const snapshotObject = (id: string) => client.getOrNull<SandboxSnapshot>(SANDBOX_SNAPSHOTS, ns, id);
  const storeKey = (id: string, file = '') => `snapshots/${ns}/${id}/${file}`;
  /** The keys of a snapshot in the object store, relative to its prefix. */
  const storedFiles = async (id: string) => s3
    ? ((await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: storeKey(id) }))).Contents ?? []).map((c) => c.Key!.slice(storeKey(id).length)).sort()
    : [];
  /** Waits until the SandboxSnapshot is gone (its finalizer has run), then says whether any of its data is left. */
  const dataLeftAfterObjectGone = async (id: string) => {
    await waitFor(`SandboxSnapshot ${id} deleted`, async () => ((await snapshotObject(id)) ? null : true), 60_000, 100);
    return existsSync(snapshotDir(id)) || (await storedFiles(id)).length > 0;
  };
  /** Suspends and resumes, timing each to its condition. */
  const suspendResume = async (name: string) => {
    let t0 = performance.now();
    await setMode(name, 'Suspended');
    const asleep = await until(name, 'suspended', suspended);
    const suspendMs = performance.now() - t0;
    t0 = performance.now();
    await setMode(name, 'Running');
    await until(name, 'Ready after resume', ready);
    return { asleep, suspendMs, resumeMs: performance.now() - t0 };
  };

  it('a suspended Sandbox resumes with its processes, memory and files; same hostname and Service', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await sandbox('counter', COUNTER);
    let sb = await until('counter', 'Ready', ready);
    const pod1 = await client.get<Pod>(PODS, ns, 'counter');
    const marker = randomBytes(8).toString('hex');
    await exec('counter', `echo ${marker} > /tmp/marker`);
    const before = await count('counter');
    const hostname = await exec('counter', 'hostname');
    const service = sb.status?.serviceFQDN;

    const { asleep, suspendMs, resumeMs } = await suspendResume('counter');
    timings.suspend = Math.round(suspendMs); timings.resume = Math.round(resumeMs);
    timings.checkpoint = Number(/checkpoint (\d+) ms/.exec(cond(asleep, 'Hibernated')!.message)![1]);
    assert.equal(cond(asleep, 'Hibernated')?.reason, 'Checkpointed', JSON.stringify(cond(asleep, 'Hibernated')));
    assert.match(cond(asleep, 'Hibernated')!.message, /^memory snapshot snap-[a-z0-9]{16} \(\d+ KiB\) on node /);
    const snap = snapshotOf(asleep)!;
    assert.equal(snap.podUid, pod1.metadata.uid);

    const pod2 = await client.get<Pod>(PODS, ns, 'counter');
    assert.notEqual(pod2.metadata.uid, pod1.metadata.uid, 'a new pod');
    assert.equal(pod2.metadata.annotations?.['agentbox.dev/restore-from'], join(NODE_DIR, 'snapshots', ns, snap.id));
    const after = await count('counter');
    assert.ok(after > before && after - before < 5_000, `the counter went on from ${before} (now ${after}), not from a new random start`);
    assert.equal(await exec('counter', 'cat /tmp/marker'), marker, 'the file written before suspend is there');
    assert.equal(await exec('counter', 'hostname'), hostname);
    sb = await until('counter', 'Restored', (s) => cond(s, 'Hibernated')?.reason === 'Restored');
    assert.equal(sb.status?.serviceFQDN, service);
    assert.equal(snapshotOf(sb), null, 'the snapshot is released once restored');
    assert.equal(await dataLeftAfterObjectGone(snap.id), false, 'its object and data are gone');
  });

  // 64 MiB through the S3 store costs minutes of upload into moto; the store's path is the roamer's test.
  if (storage === 'Node') it('keeps 64 MiB of touched memory across suspend and resume', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await sandbox('mem64', 'head -c 67108864 /dev/urandom > /dev/shm/blob && md5sum /dev/shm/blob > /tmp/sum && sleep 100000');
    await until('mem64', 'Ready', ready);
    await waitFor('64 MiB written', async () => ((await exec('mem64', 'cat /tmp/sum 2>/dev/null')) || null), 60_000, 200);
    const sum = await exec('mem64', 'cat /tmp/sum');
    const { asleep, suspendMs, resumeMs } = await suspendResume('mem64');
    timings.suspend64MiB = Math.round(suspendMs); timings.resume64MiB = Math.round(resumeMs);
    timings.checkpoint64MiB = Number(/checkpoint (\d+) ms/.exec(cond(asleep, 'Hibernated')!.message)![1]);
    assert.equal(await exec('mem64', 'md5sum /dev/shm/blob'), sum, 'the 64 MiB in memory came back unchanged');
  });

  // A fork is a checkpoint and a restore on one node, wherever snapshots are kept: once, node-local.
  if (storage === 'Node') it('forks a running Sandbox: the fork starts from its memory and files, the source runs on, and they diverge', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await sandbox('origin', COUNTER);
    await until('origin', 'Ready', ready);
    await exec('origin', 'echo from-origin > /tmp/marker');
    const atFork = await count('origin');
    const t0 = performance.now();
    await sandbox('branch', COUNTER, { 'agentbox.dev/fork-from': 'origin' });
    let branch = await until('branch', 'Ready', ready);
    timings.fork = Math.round(performance.now() - t0);

    const forked = JSON.parse(branch.metadata.annotations!['agentbox.dev/forked']!) as { from: string; snapshot: string };
    assert.equal(forked.from, 'origin');
    const pod = await client.get<Pod>(PODS, ns, 'branch');
    assert.equal(pod.metadata.annotations?.['agentbox.dev/restore-from'], join(NODE_DIR, 'snapshots', ns, forked.snapshot));
    const [origin, fork] = [await count('origin'), await count('branch')];
    assert.ok(fork > atFork && fork - atFork < 5_000, `the fork counts on from the origin's ${atFork} (now ${fork}), not from a new random start`);
    assert.ok(origin > atFork, `the origin went on running (${atFork} → ${origin})`);
    assert.equal(await exec('branch', 'cat /tmp/marker'), 'from-origin', "the origin's files are in the fork");
    await exec('branch', 'echo from-branch > /tmp/marker');
    assert.equal(await exec('origin', 'cat /tmp/marker'), 'from-origin', 'a write in the fork stays in the fork');
    assert.equal(await exec('branch', 'hostname'), 'branch', "the fork's hostname is its own (gVisor takes it from the new pod's spec on restore)");
    assert.equal(await exec('origin', 'hostname'), 'origin');

    branch = await until('branch', 'Restored', (s) => cond(s, 'Hibernated')?.reason === 'Restored');
    assert.equal(snapshotOf(branch), null, "the fork's snapshot is released once it runs");
    assert.equal(await dataLeftAfterObjectGone(forked.snapshot), false);
    // A later pod of the fork starts as any pod does: the fork was taken once.
    await client.delete(PODS, ns, 'branch', { gracePeriodSeconds: 0 });
    await waitFor('a new pod of branch', async () => {
      const p = await client.getOrNull<Pod>(PODS, ns, 'branch');
      return p && p.metadata.uid !== pod.metadata.uid ? p : null;
    }, 60_000, 200);
    assert.equal((await client.get<Pod>(PODS, ns, 'branch')).metadata.annotations?.['agentbox.dev/restore-from'], undefined);
  });

  it('refuses a snapshot tampered with on disk, and starts cold only when allowed', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await sandbox('tampered', COUNTER);
    await until('tampered', 'Ready', ready);
    await exec('tampered', 'echo before > /tmp/marker');
    await setMode('tampered', 'Suspended');
    const snap = snapshotOf(await until('tampered', 'suspended', suspended))!;
    const pages = join(NODE_DIR, 'snapshots', ns, snap.id, 'images', 'pages.img');
    const bytes = readFileSync(pages);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(pages, bytes);

    await setMode('tampered', 'Running');
    let sb = await until('tampered', 'restore refused', (s) => cond(s, 'Hibernated')?.reason === 'RestoreFailed');
    assert.match(cond(sb, 'Hibernated')!.message, /is corrupted: images\/pages\.img does not match its manifest; no pod is started \(set agentbox\.dev\/hibernation-fallback: cold-start/);
    assert.equal(await client.getOrNull(PODS, ns, 'tampered'), null, 'no pod from a refused snapshot');
    assert.equal(cond(sb, 'Ready')?.status, 'False');

    await client.patch(SANDBOXES, ns, 'tampered', { metadata: { annotations: { 'agentbox.dev/hibernation-fallback': 'cold-start' } } });
    sb = await until('tampered', 'Ready cold', ready);
    assert.match(cond(sb, 'Hibernated')!.message, /started without its memory/);
    const pod = await client.get<Pod>(PODS, ns, 'tampered');
    assert.equal(pod.metadata.annotations?.['agentbox.dev/restore-from'], undefined, 'a plain start');
    assert.equal(await exec('tampered', 'cat /tmp/marker 2>/dev/null || echo gone'), 'gone', 'memory and files outside volumes are gone in a cold start');
    assert.equal(await dataLeftAfterObjectGone(snap.id), false, 'the memory given up, its snapshot is deleted');
  });

  it('records each checkpoint as a SandboxSnapshot (kubectl columns); deleting it removes its data, deleting its Sandbox deletes it', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await Promise.all([sandbox('dropped', COUNTER), sandbox('owner', COUNTER)]);
    await Promise.all([until('dropped', 'Ready', ready), until('owner', 'Ready', ready)]);
    await Promise.all([setMode('dropped', 'Suspended'), setMode('owner', 'Suspended')]);
    const [asleep, owner] = await Promise.all([until('dropped', 'suspended', suspended), until('owner', 'suspended', suspended)]);
    const dropped = snapshotOf(asleep)!;
    const owned = snapshotOf(owner)!;
    assert.ok(existsSync(snapshotDir(dropped.id)) && existsSync(snapshotDir(owned.id)), 'both snapshots on the node');

    // The snapshot as an object: what it is of, where it lives, and the digest of its manifest.
    const obj = (await snapshotObject(owned.id))!;
    assert.ok(obj, `a SandboxSnapshot named ${owned.id}`);
    const manifest = readFileSync(join(snapshotDir(owned.id), 'manifest.json'));
    const files = (JSON.parse(manifest.toString()) as { files: { size: number }[] }).files;
    assert.deepEqual({ ...obj.status, conditions: undefined }, {
      phase: 'Ready', snapshotId: owned.id, node: nodeName, storage, conditions: undefined, sizeBytes: files.reduce((n, f) => n + f.size, 0),
      location: s3 ? `s3://${s3.bucket}/${storeKey(owned.id)}` : `node://${nodeName}${snapshotDir(owned.id)}`,
      manifestSha256: createHash('sha256').update(manifest).digest('hex'),
    });
    assert.ok(obj.status!.sizeBytes! > 0);
    assert.equal(obj.spec.sandboxName, 'owner');
    assert.deepEqual(obj.metadata.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]), [['Sandbox', owner.metadata.uid, true]]);
    assert.deepEqual(obj.metadata.finalizers, ['agentbox.dev/snapshot-data']);
    const table = (await kubectl('-n', ns, 'get', 'sbxsnap', '-o', 'wide')).trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(table[0], ['NAME', 'SANDBOX', 'PHASE', 'NODE', 'SIZE', 'STORAGE', 'LOCATION', 'DIGEST', 'AGE']);
    assert.deepEqual(table.find((r) => r[0] === owned.id)?.slice(0, 8), [owned.id, 'owner', 'Ready', nodeName, String(obj.status!.sizeBytes), storage, obj.status!.location, obj.status!.manifestSha256]);

    await kubectl('-n', ns, 'delete', 'sandboxsnapshot', dropped.id, '--wait=false');
    assert.equal(await dataLeftAfterObjectGone(dropped.id), false, 'kubectl delete removed the data on the node');
    await setMode('dropped', 'Running');
    const refused = await until('dropped', 'restore refused', (s) => cond(s, 'Hibernated')?.reason === 'RestoreFailed');
    const gone = s3 ? `is not in the object store \\(no manifest\\.json at s3://${s3.bucket}/${storeKey(dropped.id)}\\)` : `is not on node ${nodeName}`;
    assert.match(cond(refused, 'Hibernated')!.message, new RegExp(`snapshot ${dropped.id} of namespace ${ns} ${gone}; no pod is started`));

    await client.delete(SANDBOXES, ns, 'owner');
    assert.equal(await dataLeftAfterObjectGone(owned.id), false, 'garbage collection of the Sandbox took its snapshot and data');
  });

  // Only where there is a store (declared, not skipped: a skipped test fails CI).
  if (storage === 'S3') it('keeps the snapshot in the object store: another node verifies it, a corrupted copy is refused, and a node without its copy restores from the store', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await sandbox('roamer', COUNTER);
    await until('roamer', 'Ready', ready);
    const before = await count('roamer');
    await setMode('roamer', 'Suspended');
    const snap = snapshotOf(await until('roamer', 'suspended', suspended))!;
    const manifest = JSON.parse(readFileSync(join(snapshotDir(snap.id), 'manifest.json'), 'utf8')) as { files: { path: string }[] };
    assert.deepEqual(await storedFiles(snap.id), [...manifest.files.map((f) => f.path), 'manifest.json'].sort(), 'every image file and the manifest uploaded');

    // Another node's agent (its own snapshots directory, the same store) downloads and verifies it.
    const otherDir = mkdtempSync(join(tmpdir(), 'abx-other-node-'));
    t.after(() => rmSync(otherDir, { recursive: true, force: true }));
    const other = new NodeSnapshots({ node: 'other-node', runsc: { binary: runsc, root: join(otherDir, 'runsc-root') }, dir: otherDir, store });
    const req = { namespace: ns, name: 'roamer', snapshotId: snap.id, containers: [{ name: 'main', image: IMAGE.busybox }] };
    assert.equal((await other.prepareRestore(req)).restoreFrom, join(otherDir, ns, snap.id));
    assert.equal(readFileSync(join(otherDir, ns, snap.id, 'images', 'pages.img')).equals(readFileSync(join(snapshotDir(snap.id), 'images', 'pages.img'))), true);

    // A copy changed in the store is refused after download, with the file named.
    const pagesKey = storeKey(snap.id, 'images/pages.img');
    const pages = Buffer.from(await (await s3!.client.send(new GetObjectCommand({ Bucket: s3!.bucket, Key: pagesKey }))).Body!.transformToByteArray());
    const tampered = Buffer.from(pages);
    tampered[tampered.length >> 1]! ^= 0xff;
    await s3!.client.send(new PutObjectCommand({ Bucket: s3!.bucket, Key: pagesKey, Body: tampered }));
    rmSync(join(otherDir, ns), { recursive: true, force: true });
    await assert.rejects(other.prepareRestore(req), (e: unknown) => e instanceof AgentboxError && e.code === 'integrity_error' && /is corrupted: images\/pages\.img does not match its manifest/.test(e.message));
    await s3!.client.send(new PutObjectCommand({ Bucket: s3!.bucket, Key: pagesKey, Body: pages }));

    // The node's own copy gone: the resume downloads it from the store and the counter goes on.
    rmSync(snapshotDir(snap.id), { recursive: true });
    await setMode('roamer', 'Running');
    await until('roamer', 'Ready after resume', ready);
    const after = await count('roamer');
    assert.ok(after > before && after - before < 5_000, `the counter went on from ${before} (now ${after}), not from a new random start`);
    await until('roamer', 'Restored', (s) => cond(s, 'Hibernated')?.reason === 'Restored');
    assert.equal(await dataLeftAfterObjectGone(snap.id), false, 'released: gone from the node and the store');
  });

  if (storage === 'S3') it('restores a snapshot on another gVisor node when the node that took it is gone, and deletes it there and in the store', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await sandbox('mover', COUNTER);
    await until('mover', 'Ready', ready);
    const before = await count('mover');
    await setMode('mover', 'Suspended');
    const snap = snapshotOf(await until('mover', 'suspended', suspended))!;
    assert.equal(snap.storage, 'S3');
    // This machine is the only node, so the node that took the snapshot is made to be another one,
    // since removed with its disk: the Sandbox's annotation and the SandboxSnapshot name a node that
    // does not exist, and the copy on this node is deleted.
    const removed = `removed-${randomBytes(3).toString('hex')}`;
    await client.patch(SANDBOXES, ns, 'mover', { metadata: { annotations: { 'agentbox.dev/hibernation-snapshot': JSON.stringify({ ...snap, node: removed }) } } });
    await client.patch(SANDBOX_SNAPSHOTS, ns, snap.id, { status: { node: removed } }, 'merge', 'status');
    rmSync(snapshotDir(snap.id), { recursive: true });

    await setMode('mover', 'Running');
    await until('mover', 'Ready after resume', ready);
    const after = await count('mover');
    assert.ok(after > before && after - before < 5_000, `the counter went on from ${before} (now ${after}), not from a new random start`);
    const events = await kubectl('-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=mover', '-o', 'jsonpath={.items[*].message}');
    assert.match(events, new RegExp(`node ${removed}, which holds memory snapshot ${snap.id}, is gone or not Ready: restoring it from the object store on node ${nodeName}`));
    const restored = await until('mover', 'Restored', (s) => cond(s, 'Hibernated')?.reason === 'Restored');
    assert.match(cond(restored, 'Hibernated')!.message, new RegExp(`restored from memory snapshot ${snap.id} on node ${nodeName}`));
    // The object was moved to this node, so its finalizer had this node's agent delete the data:
    // the downloaded copy and the store's (the removed node's agent could not have).
    assert.equal(await dataLeftAfterObjectGone(snap.id), false, 'released: gone from this node and the store');
  });

  // The wake does not depend on where the snapshot is kept: once, node-local.
  if (storage === 'Node') it('suspends a Sandbox idle past suspend-after-idle and resumes it with its memory when a request comes through the router', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    // busybox httpd serves the in-memory counter's file on 8080, through the router.
    await sandbox('idler', `mkdir -p /tmp/www && httpd -p 8080 -h /tmp/www && ${COUNTER.replaceAll('/tmp/count', '/tmp/www/count')}`, { 'agentbox.dev/suspend-after-idle': '4' });
    await until('idler', 'Ready', ready);
    const fetchCount = async () => {
      const res = await fetch(`http://127.0.0.1:${router!.port}/count`, { headers: { 'X-Sandbox-ID': 'idler', 'X-Sandbox-Namespace': ns, 'X-Sandbox-Port': '8080' } });
      assert.equal(res.status, 200, await res.clone().text());
      return Number((await res.text()).trim());
    };
    let lastError = '';
    const first = await waitFor('the counter served', () => fetchCount().catch((e: Error) => { lastError = e.message; return null; }), 60_000, 200)
      .catch((e: Error) => assert.fail(`${e.message}; last answer: ${lastError}`));
    // Requests keep it awake: 6 s of traffic every second, past its 4 s limit.
    for (let i = 0; i < 6; i++) {
      await fetchCount();
      await new Promise((r) => setTimeout(r, 1000));
    }
    let sb = await get('idler');
    assert.notEqual(sb.spec.operatingMode, 'Suspended', 'traffic within the limit keeps it running');
    assert.ok(sb.metadata.annotations?.['agentbox.dev/last-activity'], 'the router wrote the last traffic');

    const asleep = await until('idler', 'suspended for idleness', suspended, 120_000);
    assert.equal(asleep.spec.operatingMode, 'Suspended');
    assert.equal(asleep.metadata.annotations?.['agentbox.dev/suspended-by'], 'idle');
    assert.equal(cond(asleep, 'Hibernated')?.reason, 'Checkpointed', JSON.stringify(cond(asleep, 'Hibernated')));

    // One request wakes it: held while the pod is restored, then answered from the same memory.
    const t0 = performance.now();
    const woken = await fetchCount();
    timings.wakeOnRequest = Math.round(performance.now() - t0);
    assert.ok(woken > first && woken - first < 20_000, `the counter went on from ${first} (now ${woken}), not from a new random start`);
    sb = await get('idler');
    assert.equal(sb.spec.operatingMode, 'Running');
    assert.equal(sb.metadata.annotations?.['agentbox.dev/suspended-by'], undefined);
    const metrics = await router!.registry.getSingleMetricAsString('sandbox_router_wakes_total');
    assert.match(metrics, /sandbox_router_wakes_total 1$/m);
  });
});
