import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_RETENTION_MS } from '../../api/events.ts';
import { openDb } from '../db.ts';
import type { SandboxRecord } from '../sandbox-store.ts';
import { EventLog } from './event-log.ts';
import { Outbox } from './outbox.ts';
import { WebhookStore } from './webhook-store.ts';

function setup(clock = { t: 1_000_000 }) {
  const db = openDb(':memory:');
  for (const t of ['t1', 't2']) db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, 0)').run(t, t);
  const outbox = new Outbox(db);
  return { db, clock, outbox, log: new EventLog(db, outbox, () => clock.t), webhooks: new WebhookStore(db, () => clock.t) };
}

const rec = (id: string, tenantId = 't1'): SandboxRecord => ({
  id, tenantId, template: 'base', runtime: 'gvisor', state: 'running', pooled: false, fromPool: false, metadata: { user: 'ada' }, claimEnv: {},
  timeoutS: 60, onTimeout: 'kill', autoResume: false, expiresAt: null, cpu: 1, memoryMiB: 512, createdAt: 0,
});

const webhook = (events: SandboxRecord['metadata'][string][]) => ({ name: 'w', url: 'http://127.0.0.1:1/', events: events as never, secret: 'secret-1', enabled: true });

test('events list per tenant (an admin view: all), in order, filtered by sandbox, type and time', () => {
  const { log, clock } = setup();
  log.record('sandbox.lifecycle.created', rec('a'));
  clock.t += 10;
  log.record('sandbox.lifecycle.paused', rec('a'), { reason: 'requested' });
  log.record('sandbox.lifecycle.created', rec('b', 't2'));
  assert.deepEqual(log.list({ tenantId: 't1', limit: 10 }).map((e) => e.type), ['sandbox.lifecycle.created', 'sandbox.lifecycle.paused']);
  assert.deepEqual(log.list({ limit: 10 }).map((e) => e.sandboxId), ['a', 'a', 'b']);
  assert.deepEqual(log.list({ tenantId: 't1', limit: 10, order: 'desc' }).map((e) => e.type), ['sandbox.lifecycle.paused', 'sandbox.lifecycle.created']);
  assert.deepEqual(log.list({ limit: 10, types: ['sandbox.lifecycle.created'] }).map((e) => e.sandboxId), ['a', 'b']);
  assert.deepEqual(log.list({ limit: 10, sandboxId: 'b' }).map((e) => e.tenantId), ['t2']);
  assert.equal(log.list({ limit: 10, since: 1_000_010 }).length, 2);
  const [first] = log.list({ limit: 1 });
  assert.deepEqual(log.list({ limit: 10, after: first!.seq }).map((e) => e.seq), [first!.seq + 1, first!.seq + 2]);
  assert.deepEqual(log.list({ limit: 1, offset: 1 }).map((e) => e.type), ['sandbox.lifecycle.paused']);
  assert.deepEqual(first!.metadata, { user: 'ada' });
  assert.equal(first!.template, 'base');
});

test('events older than the retention are not listed and are pruned', () => {
  const { log, clock, db } = setup();
  log.record('sandbox.lifecycle.created', rec('a'));
  clock.t += EVENT_RETENTION_MS + 1;
  assert.equal(log.list({ limit: 10 }).length, 0);
  log.record('sandbox.lifecycle.killed', rec('a'));
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, 1);
});

test('a recorded event queues one delivery per enabled webhook of its tenant that wants its type', () => {
  const { log, outbox, webhooks, clock } = setup();
  const all = webhooks.create('t1', webhook(['sandbox.lifecycle.created', 'sandbox.lifecycle.killed']))!;
  webhooks.create('t1', webhook(['sandbox.lifecycle.paused']));
  webhooks.create('t1', { ...webhook(['sandbox.lifecycle.created']), enabled: false });
  webhooks.create('t2', webhook(['sandbox.lifecycle.created']));
  const e = log.record('sandbox.lifecycle.created', rec('a'));
  assert.deepEqual(outbox.pending().map((d) => [d.webhookId, d.seq]), [[all.id, e.seq]]);
  const [d] = outbox.claim(clock.t, 10, clock.t + 1000);
  assert.equal(d?.event.id, e.id);
  assert.equal(d?.secret, 'secret-1');
  // Leased: not claimed twice while in flight, due again once the lease ran out.
  assert.equal(outbox.claim(clock.t, 10, clock.t + 1000).length, 0);
  assert.equal(outbox.claim(clock.t + 1000, 10, clock.t + 2000).length, 1);
  outbox.retryAt(d!.id, clock.t + 5000, 'answered 500');
  assert.deepEqual(outbox.pending().map((p) => [p.attempts, p.lastError]), [[1, 'answered 500']]);
  assert.equal(outbox.nextDue(), clock.t + 5000);
  outbox.finish(d!.id);
  assert.equal(outbox.pending().length, 0);
});

test('an event rolled back with its transition leaves no event, no delivery and tells no listener', async () => {
  const { log, outbox, webhooks, db } = setup();
  webhooks.create('t1', webhook(['sandbox.lifecycle.created']));
  const heard: string[] = [];
  log.subscribe((e) => heard.push(e.sandboxId));
  assert.throws(() => db.transaction(() => { log.record('sandbox.lifecycle.created', rec('gone')); throw new Error('transition failed'); })());
  log.record('sandbox.lifecycle.created', rec('kept'));
  await Promise.resolve();
  assert.deepEqual(heard, ['kept']);
  assert.deepEqual(log.list({ limit: 10 }).map((e) => e.sandboxId), ['kept']);
  assert.equal(outbox.pending().length, 1);
});

test('forget removes an event and its pending deliveries; deleting a webhook drops its deliveries', () => {
  const { log, outbox, webhooks } = setup();
  const w = webhooks.create('t1', webhook(['sandbox.lifecycle.killed']))!;
  const e = log.record('sandbox.lifecycle.killed', rec('a'));
  log.forget(e.seq);
  assert.equal(outbox.pending().length, 0);
  log.record('sandbox.lifecycle.killed', rec('b'));
  webhooks.delete('t1', w.id);
  assert.equal(outbox.pending().length, 0);
});

test('webhooks are scoped to their tenant and bounded in number', () => {
  const { webhooks } = setup();
  const w = webhooks.create('t1', webhook(['sandbox.lifecycle.created']))!;
  assert.throws(() => webhooks.get('t2', w.id), { code: 'not_found' });
  assert.throws(() => webhooks.delete('t2', w.id), { code: 'not_found' });
  assert.deepEqual(webhooks.list('t2'), []);
  const u = webhooks.update('t1', w.id, { enabled: false, events: ['sandbox.lifecycle.killed'] });
  assert.deepEqual([u.enabled, u.events, u.url, u.secret], [false, ['sandbox.lifecycle.killed'], w.url, w.secret]);
  let made = 1;
  while (webhooks.create('t1', webhook(['sandbox.lifecycle.created']))) made++;
  assert.equal(made, 20);
});
