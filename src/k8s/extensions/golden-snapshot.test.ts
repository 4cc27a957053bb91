// The golden Sandbox's steps (golden-snapshot.ts) with the API recorded in memory: made from the
// template, suspended once Ready, a stored snapshot reported, and replaced when its template
// changed or the node holding its snapshot is gone. The pool filling from it on a real node is
// test/k8s/golden-pool-real-node.test.ts; the pool controller's use of it against a real API
// server, test/k8s/warmpool-controller.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxTemplate, SandboxWarmPool } from '../../api/k8s/types.ts';
import type { KubeClient } from '../client.ts';
import { nameHash } from '../hash.ts';
import type { Informer } from '../informer.ts';
import type { RestoreNodes } from '../node/placement.ts';
import { blueprintFromTemplate, blueprintHash } from './blueprint.ts';
import { GoldenSnapshots } from './golden-snapshot.ts';

const pool = { metadata: { name: 'py', namespace: 'n', uid: 'pool-uid', annotations: { 'agentbox.dev/golden-snapshot': 'true' } } } as unknown as SandboxWarmPool;
const template = (image = 'python:3') => ({
  metadata: { name: 'py', namespace: 'n' },
  spec: { podTemplate: { spec: { containers: [{ name: 'main', image }] } } },
}) as unknown as SandboxTemplate;

/** The golden as the pool makes it (labels of `t`), then changed by `extra`. */
const goldenOf = (t: SandboxTemplate, extra: { mode?: string; ready?: boolean; snapshot?: object; hibernated?: object; owner?: string } = {}) => ({
  metadata: {
    name: 'py-golden', namespace: 'n', uid: 'golden-uid',
    labels: { 'agents.x-k8s.io/sandbox-template-ref-hash': nameHash('py'), 'agents.x-k8s.io/sandbox-template-hash': blueprintHash(t) },
    annotations: extra.snapshot ? { 'agentbox.dev/hibernation-snapshot': JSON.stringify(extra.snapshot) } : {},
    ownerReferences: [{ apiVersion: 'extensions.agents.x-k8s.io/v1alpha1', kind: 'SandboxWarmPool', name: 'py', uid: extra.owner ?? 'pool-uid', controller: true }],
  },
  spec: { ...blueprintFromTemplate(t), ...(extra.mode ? { operatingMode: extra.mode } : {}) },
  status: { conditions: [
    ...(extra.ready ? [{ type: 'Ready', status: 'True' }] : []),
    ...(extra.hibernated ? [extra.hibernated] : []),
  ] },
}) as unknown as Sandbox;

function world(golden: Sandbox | undefined, readyNodes?: string[]) {
  const calls = { created: [] as Sandbox[], deleted: [] as string[], patched: [] as unknown[] };
  const store = new Map<string, Sandbox>(golden ? [[golden.metadata.name!, golden]] : []);
  const sandboxes = { get: (_ns: string, name: string) => store.get(name), observe: (sb: Sandbox) => store.set(sb.metadata.name!, sb) } as unknown as Informer<Sandbox>;
  const client = {
    create: async (_rt: unknown, _ns: string, sb: Sandbox) => { calls.created.push(sb); return { ...sb, metadata: { ...sb.metadata, uid: 'new-uid' } }; },
    delete: async (_rt: unknown, _ns: string, name: string, opts: { preconditions: { uid: string } }) => { calls.deleted.push(`${name}@${opts.preconditions.uid}`); return true; },
    patch: async (_rt: unknown, _ns: string, name: string, patch: unknown) => { calls.patched.push({ name, patch }); return {}; },
  } as unknown as KubeClient;
  const restoreNodes: RestoreNodes | undefined = readyNodes && { isReady: async (n) => readyNodes.includes(n), ready: async () => readyNodes };
  const golden$ = new GoldenSnapshots({
    client, sandboxes, ...(restoreNodes ? { restoreNodes } : {}),
    sandboxOf: (_p, t, meta) => ({ metadata: { ...meta, namespace: 'n' }, spec: blueprintFromTemplate(t) }) as unknown as Sandbox,
  });
  return { golden: golden$, calls };
}

const snap = { id: 'snap-0123456789abcdef', node: 'node-a', podUid: 'u', storage: 'Node' };

describe('golden Sandbox of a golden-snapshot pool', () => {
  it('is made from the template with memory hibernation, forking nothing, and no member is made meanwhile', async () => {
    const { golden, calls } = world(undefined);
    const state = await golden.ensure(pool, template());
    assert.deepEqual(state, { stored: false, reason: 'GoldenSnapshotPending', message: 'starting golden Sandbox py-golden' });
    assert.equal(calls.created.length, 1);
    const made = calls.created[0]!;
    assert.equal(made.metadata.name, 'py-golden');
    assert.deepEqual(made.metadata.labels, { 'agentbox.dev/golden-of': nameHash('py') });
    assert.deepEqual(made.metadata.annotations, { 'agentbox.dev/hibernation': 'memory', 'agentbox.dev/fork-from': '' });
  });

  it('waits while it starts, and suspends it once Ready (its start command done)', async () => {
    const starting = world(goldenOf(template()));
    assert.match((await starting.golden.ensure(pool, template())).message, /waiting for golden Sandbox py-golden to become Ready/);
    assert.deepEqual(starting.calls.patched, []);
    const ready = world(goldenOf(template(), { ready: true }));
    assert.match((await ready.golden.ensure(pool, template())).message, /checkpointing golden Sandbox py-golden/);
    assert.deepEqual(ready.calls.patched, [{ name: 'py-golden', patch: { spec: { operatingMode: 'Suspended' } } }]);
  });

  it('reports its stored snapshot, or the reason its checkpoint failed', async () => {
    const stored = world(goldenOf(template(), { mode: 'Suspended', snapshot: snap }), ['node-a']);
    assert.deepEqual(await stored.golden.ensure(pool, template()),
      { stored: true, name: 'py-golden', message: 'members restore memory snapshot snap-0123456789abcdef of golden Sandbox py-golden on node node-a' });
    const failed = world(goldenOf(template(), { mode: 'Suspended', hibernated: { type: 'Hibernated', status: 'False', reason: 'CheckpointFailed', message: 'checkpoint failed: disk full' } }));
    assert.deepEqual(await failed.golden.ensure(pool, template()),
      { stored: false, reason: 'GoldenSnapshotFailed', message: 'golden Sandbox py-golden: checkpoint failed: disk full' });
    assert.deepEqual([...stored.calls.deleted, ...failed.calls.deleted], []);
  });

  it('is replaced when its template changed, or when the node holding its snapshot is gone', async () => {
    const stale = world(goldenOf(template('python:3'), { mode: 'Suspended', snapshot: snap }), ['node-a']);
    assert.match((await stale.golden.ensure(pool, template('python:3.12'))).message, /replacing golden Sandbox py-golden, built from an older template/);
    assert.deepEqual(stale.calls.deleted, ['py-golden@golden-uid']);
    const lost = world(goldenOf(template(), { mode: 'Suspended', snapshot: snap }), ['node-b']);
    const state = await lost.golden.ensure(pool, template());
    assert.equal(state.stored, false);
    assert.match(state.message, /node node-a, which holds golden Sandbox py-golden's memory snapshot snap-0123456789abcdef, is gone or not Ready: taking a new one/);
    assert.deepEqual(lost.calls.deleted, ['py-golden@golden-uid']);
  });

  it('leaves a Sandbox of that name alone when the pool does not own it', async () => {
    const { golden, calls } = world(goldenOf(template(), { owner: 'another-pool' }));
    assert.deepEqual(await golden.ensure(pool, template()),
      { stored: false, reason: 'GoldenSnapshotFailed', message: 'Sandbox py-golden exists and is not this pool\'s; delete or rename it' });
    assert.deepEqual([calls.created, calls.deleted, calls.patched], [[], [], []]);
  });
});
