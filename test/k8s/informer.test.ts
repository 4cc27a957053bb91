// The operator's list+watch cache (src/k8s/informer.ts) against the real kube-apiserver: a copy
// the operator observe()d after writing it is never replaced by watch events of earlier writes.
// Those arrive after the observe() whenever the watch lags; the cache then handed a reconcile
// the status from before the write, and the reconcile's merge patch undid the write (a Sandbox
// went Ready with its hibernation condition of two passes before). The watch's delivery is held
// back here, so the order is certain: the events come from the real server, only later.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient, ListOptions, ResourceType, WatchEvent } from '../../src/k8s/client.ts';
import { Informer } from '../../src/k8s/informer.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import { adminClient, createNamespace, createSandboxObject, deleteNamespace, ensureEnv, installCrds, waitFor } from './harness.ts';

const skip = ensureEnv();

describe('informer cache', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns = '';
  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'informer');
  });
  after(async () => {
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('keeps the copy observed after a write when the watch delivers earlier versions later', async () => {
    // The real client, with each watch event held until the test delivers it.
    const held: (() => void)[] = [];
    const lagging = Object.create(client) as KubeClient;
    lagging.watch = <T extends KubeObject>(rt: ResourceType, namespace: string | undefined, rv: string,
      onEvent: (ev: WatchEvent<T>) => void, signal: AbortSignal, opts?: ListOptions) =>
      client.watch<T>(rt, namespace, rv, (ev) => { held.push(() => onEvent(ev)); }, signal, opts);
    const informer = new Informer<Sandbox>(lagging, SANDBOXES, { namespace: ns });
    const seen: string[] = [];
    informer.on((type, obj) => seen.push(`${type} ${obj.metadata.annotations?.step ?? '-'}`));
    await informer.start();
    try {
      await createSandboxObject(client, ns, 'lagged');
      await client.patch(SANDBOXES, ns, 'lagged', { metadata: { annotations: { step: '1' } } });
      const written = await client.patch<Sandbox>(SANDBOXES, ns, 'lagged', { metadata: { annotations: { step: '2' } } });
      informer.observe(written);
      await waitFor('three watch events held', () => held.length >= 3, 30_000, 20);

      for (const deliver of held.splice(0, 2)) {
        deliver();
        assert.equal(informer.get(ns, 'lagged')?.metadata.annotations?.step, '2', 'an earlier version never replaces the observed one');
      }
      assert.deepEqual(seen, [], 'no handler runs for a version older than the cached one');
      held.splice(0).forEach((deliver) => deliver());
      assert.equal(informer.get(ns, 'lagged')?.metadata.resourceVersion, written.metadata.resourceVersion);
      assert.deepEqual(seen, ['update 2'], 'the event of the observed write itself still reaches the handlers');

      // A later write by someone else is taken as before.
      await client.patch(SANDBOXES, ns, 'lagged', { metadata: { annotations: { step: '3' } } });
      await waitFor('the next event held', () => held.length >= 1, 30_000, 20);
      held.splice(0).forEach((deliver) => deliver());
      assert.equal(informer.get(ns, 'lagged')?.metadata.annotations?.step, '3');
    } finally {
      await informer.stop();
    }
  });
});
