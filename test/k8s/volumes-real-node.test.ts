// test-file-timeout: 30 min
// Volumes on Kubernetes (issue 15) over real gVisor pods of the node of scripts/k8s-node.sh: the
// npm `e2b` SDK (latest, unchanged) and agentbox's own SDK drive `agentbox up --kubernetes` (the
// real operator and router in-process, nothing playing the kubelet). A volume is a PVC of the
// node's local-path class; a sandbox of each SDK mounts it and sees the other's writes; the files
// outlive both sandboxes; another tenant gets 404; a mounted volume's delete is 409; bad paths
// are the one-machine 400; the content API is a clear 501; and a delete removes the PVC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATION, LABEL } from '../../src/api/k8s/constants.ts';
import type { Pvc } from '../../src/cluster/volumes.ts';
import { PODS, PVCS, type KubeClient } from '../../src/k8s/client.ts';
import { CLAIMS } from '../../src/k8s/resources.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { ConflictError, NotFoundError, Sandbox as NativeSandbox, Volumes } from '../../src/sdk/index.ts';
import { loadLatestE2b, sdkManifest, type SdkManifest } from '../e2b/fixture.ts';
import { adminClient, ensureEnv, waitFor } from './harness.ts';
import { startRealNodeStack, type KubernetesStack } from './kubernetes-stack.ts';

const skip = ensureEnv();
const manifest = sdkManifest();

/**
 * Plays Kubernetes' PVC-protection controller for the namespace's deleted volumes: the shared test
 * control plane's kube-controller-manager runs without it (scripts/k8s-env.sh --controllers), so
 * the `kubernetes.io/pvc-protection` finalizer the API server adds would keep every deleted PVC
 * (and the test namespace) forever. Like that controller, it drops the finalizer only once no pod
 * of the namespace names the claim.
 */
async function releaseDeletedPvcs(client: KubeClient, ns: string): Promise<void> {
  const pods = (await client.list<Pod>(PODS, ns)).items;
  for (const pvc of (await client.list<Pvc>(PVCS, ns)).items) {
    if (!pvc.metadata.deletionTimestamp || pods.some((p) => p.spec.volumes?.some((v) => (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName === pvc.metadata.name))) continue;
    await client.patch(PVCS, ns, pvc.metadata.name!, { metadata: { finalizers: null } }, 'merge').catch(() => undefined);
  }
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<Error> {
  try { await p; } catch (err) { return err as Error; }
  throw new Error(`${what} was accepted`);
}

describe('volumes on Kubernetes over real gVisor pods', { skip: skip ?? (typeof manifest === 'string' ? manifest : false) }, () => {
  let client: KubeClient;
  let started: KubernetesStack | { skip: string } | undefined;
  const keys = { a: '', b: '' };
  const stackOf = () => started as KubernetesStack;

  const api = (path: string, key: string, init: { method?: string; json?: unknown } = {}) => fetch(`${stackOf().server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });

  before(async () => {
    client = await adminClient();
    started = await startRealNodeStack(client, 'kvol');
    if ('skip' in started) return;
    for (const tenant of ['a', 'b'] as const) {
      const res = await api('/v1/keys', stackOf().server.adminKey!, { method: 'POST', json: { tenant: `vol-${tenant}` } });
      assert.equal(res.status, 201, await res.clone().text());
      keys[tenant] = ((await res.json()) as { key: string }).key;
    }
  });
  after(async () => {
    if (started && !('skip' in started)) {
      // Whatever a failed run left: its sandboxes go (the operator still runs), and no PVC may keep the namespace from going.
      const { ns } = started;
      for (const c of (await client.list(CLAIMS, ns)).items) await client.delete(CLAIMS, ns, c.metadata.name!).catch(() => undefined);
      for (const pvc of (await client.list<Pvc>(PVCS, ns)).items) await client.delete(PVCS, ns, pvc.metadata.name!).catch(() => undefined);
      await waitFor('the test\'s pods gone', async () => ((await client.list<Pod>(PODS, ns)).items.length === 0 ? true : null), 180_000).catch(() => undefined);
      await releaseDeletedPvcs(client, ns);
      await started.close();
    }
    client?.close();
  });

  it('the npm e2b SDK and the native SDK share a volume (a PVC) between sandboxes of one tenant', { timeout: 900_000 }, async (t) => {
    if (started && 'skip' in started) return t.skip(started.skip);
    const stack = stackOf();
    const server = stack.server;
    Object.assign(process.env, { E2B_API_URL: `${server.url}/e2b`, E2B_SANDBOX_URL: `${server.url}/e2b/sandbox`, E2B_API_KEY: keys.a });
    const latest = await loadLatestE2b<any>(manifest as SdkManifest);
    if (typeof latest === 'string') throw new Error(latest);
    const e2b = latest.sdk;
    const native = { apiUrl: server.url, apiKey: keys.a };
    const ns = stack.ns;
    const name = 'shared_Data-1';

    // Create: a PVC of the tenant, named in an annotation, of the default class (local-path).
    const vol = await e2b.Volume.create(name);
    assert.match(vol.volumeId, /^[0-9a-f-]{36}$/);
    const pvcs = (await client.list<Pvc>(PVCS, ns, { labelSelector: `${LABEL.volume}=true,${LABEL.tenant}` })).items;
    assert.equal(pvcs.length, 1, 'one PVC');
    const pvc = pvcs[0]!;
    assert.equal(pvc.metadata.uid, vol.volumeId, 'the volume id is the PVC\'s uid');
    assert.equal(pvc.metadata.annotations?.[ANNOTATION.volumeName], name);
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
    assert.equal(pvc.spec.resources?.requests?.storage, '10Gi', 'an E2B create has no size: the default, 10240 MiB');
    assert.equal((await Volumes.get(name, native)).sizeMiB, 10_240);
    assert.ok((await e2b.Volume.list()).some((v: { volumeId: string; name: string }) => v.volumeId === vol.volumeId && v.name === name), 'listed (E2B)');
    assert.deepEqual((await Volumes.list(native)).map((v) => v.name), [name], 'listed (native)');
    assert.equal((await e2b.Volume.getInfo(vol.volumeId)).name, name);
    assert.match((await rejection(e2b.Volume.create(name), 'a second volume of the same name')).message, /already exists/);
    const sized = await Volumes.create('sized', { ...native, sizeMiB: 64 });
    assert.equal((await client.get<Pvc>(PVCS, ns, (await client.list<Pvc>(PVCS, ns)).items.find((x) => x.metadata.uid === sized.id)!.metadata.name!)).spec.resources?.requests?.storage, '64Mi', 'sizeMiB is the storage request');

    // Bad paths: the one-machine validation, before anything is made.
    for (const path of ['/proc', 'relative', '/mnt/../etc', '/run/agentbox-guest']) {
      const err = await rejection(e2b.Sandbox.create('base', { volumeMounts: { [path]: vol } }), `a mount at ${path}`);
      assert.match(err.message, /invalid mounts: volume mount #0/, path);
    }
    assert.match((await rejection(e2b.Sandbox.create('base', { volumeMounts: { '/x': 'no-such-volume' } }), 'an unknown volume')).message, /volume 'no-such-volume' not found/);

    // Two sandboxes, one per SDK, mount it and see each other's writes.
    const a = await e2b.Sandbox.create('base', { volumeMounts: { '/mnt/shared': vol }, timeoutMs: 600_000 });
    const b = await NativeSandbox.create({ ...native, template: 'base', volumes: [{ name, path: '/home/user/data' }], timeoutMs: 600_000 });
    let c: { kill(): Promise<unknown>; commands: { run(cmd: string): Promise<{ stdout: string }> } } | undefined;
    try {
      const wrote = await a.commands.run('echo from-a > /mnt/shared/a.txt && stat -c %U /mnt/shared/a.txt');
      assert.equal(wrote.stdout, 'user\n', 'the sandbox user writes to the volume');
      assert.equal((await b.commands.run('cat /home/user/data/a.txt')).stdout, 'from-a\n', 'B reads A\'s file');
      await b.commands.run('echo from-b > /home/user/data/b.txt');
      assert.equal((await a.commands.run('cat /mnt/shared/b.txt')).stdout, 'from-b\n', 'A reads B\'s file');
      assert.deepEqual((await e2b.Sandbox.getInfo(a.sandboxId)).volumeMounts, [{ name, path: '/mnt/shared' }], 'getInfo names the mount');
      assert.match((await a.commands.run('dmesg | head -3')).stdout, /gVisor/, 'under gVisor');

      // Another tenant: 404 everywhere, as on one machine.
      const other = { apiKey: keys.b };
      assert.ok((await rejection(e2b.Volume.getInfo(vol.volumeId, other), 'another tenant\'s get')) instanceof e2b.VolumeNotFoundError);
      assert.equal((await e2b.Volume.list(other)).length, 0, 'another tenant lists none');
      assert.equal(await e2b.Volume.destroy(vol.volumeId, other), false, 'another tenant\'s delete is a 404');
      assert.ok((await rejection(Volumes.delete(name, { ...native, apiKey: keys.b }), 'another tenant\'s native delete')) instanceof NotFoundError);
      assert.match((await rejection(e2b.Sandbox.create('base', { ...other, volumeMounts: { '/x': name } }), 'mounting another tenant\'s volume')).message, /not found/);

      // Mounted: no delete, no snapshot; the content API is not served on a cluster.
      assert.match((await rejection(e2b.Volume.destroy(vol.volumeId), 'deleting a mounted volume')).message, /mounted by a sandbox/);
      assert.ok((await rejection(Volumes.delete(name, native), 'a native delete of a mounted volume')) instanceof ConflictError);
      assert.match((await rejection(a.createSnapshot(), 'a snapshot of a sandbox with a volume')).message, /cannot be snapshotted or forked/);
      const fork = await api(`/v1/sandboxes/${b.id}/fork`, keys.a, { method: 'POST', json: {} });
      assert.equal(fork.status, 409, await fork.clone().text());
      const content = await fetch(`${server.url}/e2b/volumecontent/${vol.volumeId}/dir?path=/`, { headers: { Authorization: 'Bearer x' } });
      const body = (await content.json()) as { code: string; message: string };
      assert.equal(content.status, 501);
      assert.equal(body.code, 'not_supported');
      assert.match(body.message, /volume content API/);

      // The files outlive both sandboxes: a third reads them.
      await a.kill();
      await b.kill();
      c = await e2b.Sandbox.create('base', { volumeMounts: { '/srv/vol': vol }, timeoutMs: 600_000 });
      assert.equal((await c!.commands.run('cat /srv/vol/a.txt /srv/vol/b.txt')).stdout, 'from-a\nfrom-b\n', 'a third sandbox reads them');
    } finally {
      await a.kill().catch(() => undefined);
      await b.kill().catch(() => undefined);
      await c?.kill().catch(() => undefined);
    }

    // Unmounted: the delete goes through, and the PVC goes once the pods are gone.
    assert.equal(await e2b.Volume.destroy(vol.volumeId), true);
    assert.ok((await rejection(e2b.Volume.getInfo(vol.volumeId), 'get after delete')) instanceof e2b.VolumeNotFoundError);
    await Volumes.delete('sized', native);
    assert.deepEqual(await Volumes.list(native), []);
    const deleting = (await client.list<Pvc>(PVCS, ns, { labelSelector: LABEL.volume })).items;
    assert.ok(deleting.every((x) => x.metadata.deletionTimestamp), 'both PVCs are being deleted');
    await waitFor('the volumes\' PVCs gone', async () => {
      await releaseDeletedPvcs(client, ns);
      return (await client.list<Pvc>(PVCS, ns, { labelSelector: LABEL.volume })).items.length === 0 ? true : null;
    }, 180_000);
  });
});
