import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { openDb } from '../db.ts';
import type { SandboxRecord } from '../sandbox-store.ts';
import { WebhookDeliverer } from './deliverer.ts';
import { EventLog } from './event-log.ts';
import { Outbox } from './outbox.ts';
import { e2bSignature } from './signature.ts';
import { WebhookStore } from './webhook-store.ts';

interface Received { headers: IncomingMessage['headers']; body: string }

/** A webhook receiver on loopback answering each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[], headers: Record<string, string> = {}) {
  const got: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200, headers).end();
      for (const w of waiters.filter((x) => got.length >= x.n)) w.resolve();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    received: (n: number) => new Promise<void>((resolve) => (got.length >= n ? resolve() : waiters.push({ n, resolve }))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function setup(allowPrivateTargets: boolean) {
  const db = openDb(':memory:');
  db.prepare("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 't1', 0)").run();
  const outbox = new Outbox(db);
  const log = new EventLog(db, outbox, Date.now);
  const logged: string[] = [];
  const deliverer = new WebhookDeliverer({ outbox, now: Date.now, log: (msg, f) => logged.push(`${msg} ${JSON.stringify(f)}`), allowPrivateTargets, tuning: { retryBaseMs: 10, maxAttempts: 4 } });
  log.subscribe(() => deliverer.poke());
  deliverer.start();
  return { outbox, log, webhooks: new WebhookStore(db, Date.now), deliverer, logged };
}

const rec: SandboxRecord = {
  id: 'sbx1', tenantId: 't1', template: 'base', runtime: 'gvisor', state: 'running', pooled: false, fromPool: false, metadata: { k: 'v' }, claimEnv: {},
  timeoutS: 60, onTimeout: 'kill', autoResume: false, expiresAt: null, cpu: 1, memoryMiB: 512, createdAt: 0,
};

test('a delivery that fails is retried until the receiver takes it, each attempt signed as E2B signs', async () => {
  const r = await receiver([500, 503]);
  const { log, webhooks, deliverer, outbox } = setup(true);
  try {
    const w = webhooks.create('t1', { name: 'w', url: r.url, events: ['sandbox.lifecycle.created'], secret: 'topsecret', enabled: true })!;
    const e = log.record('sandbox.lifecycle.created', rec);
    await r.received(3);
    const last = r.got[2]!;
    const payload = JSON.parse(last.body);
    assert.deepEqual([payload.id, payload.type, payload.sandboxId, payload.sandboxTeamId, payload.eventData.sandbox_metadata], [e.id, 'sandbox.lifecycle.created', 'sbx1', 't1', { k: 'v' }]);
    for (const g of r.got) {
      // What a receiver does (E2B's docs): the signature of the raw body with its secret.
      assert.equal(g.headers['e2b-signature'], e2bSignature('topsecret', g.body));
      assert.equal(g.headers['e2b-signature-version'], 'v1');
      assert.equal(g.headers['e2b-webhook-id'], w.id);
    }
    assert.equal(new Set(r.got.map((g) => g.headers['e2b-delivery-id'])).size, 3, 'each attempt has its own delivery id');
    await deliverer.stop();
    assert.equal(outbox.pending().length, 0);
  } finally {
    await deliverer.stop();
    await r.close();
  }
});

test('a redirect is a failure (never followed), and attempts are bounded', async () => {
  const r = await receiver([302, 302, 302, 302, 302], { Location: 'http://169.254.169.254/' });
  const { log, webhooks, deliverer, logged } = setup(true);
  try {
    webhooks.create('t1', { name: 'w', url: r.url, events: ['sandbox.lifecycle.killed'], secret: 'topsecret', enabled: true });
    log.record('sandbox.lifecycle.killed', rec);
    await r.received(4);
    await deliverer.stop();
    assert.equal(r.got.length, 4, 'maxAttempts POSTs, no more');
    assert.match(logged.join('\n'), /abandoned.*redirects are not followed/);
  } finally {
    await deliverer.stop();
    await r.close();
  }
});

test('without the admin setting a loopback receiver is never POSTed to', async () => {
  const r = await receiver([]);
  const { log, webhooks, deliverer, outbox, logged } = setup(false);
  try {
    // Registered through the store directly: the API refuses such a URL up front (event-ops.ts).
    webhooks.create('t1', { name: 'w', url: r.url.replace('127.0.0.1', 'localhost'), events: ['sandbox.lifecycle.killed'], secret: 'topsecret', enabled: true });
    log.record('sandbox.lifecycle.killed', rec);
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (outbox.pending().length === 0) { clearInterval(t); resolve(); } }, 10); });
    assert.equal(r.got.length, 0);
    assert.match(logged.join('\n'), /abandoned.*loopback, private/);
  } finally {
    await deliverer.stop();
    await r.close();
  }
});
