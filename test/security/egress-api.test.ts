/**
 * The network policy given through the APIs takes effect inside the sandbox: native
 * `POST /v1/sandboxes {network}`, E2B create with `allow_internet_access: false` or
 * `network: {allowOut, denyOut}`, and E2B's `updateNetwork` (`PUT /sandboxes/{id}/network`).
 * A real server over the real engine (runc); every probe runs inside the sandbox through the
 * API's own exec, against an outside namespace this test creates (test/engine/outside-net.ts),
 * and every "blocked" has a control sandbox reaching the same address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { createOutsideNet, type OutsideNet } from '../engine/outside-net.ts';

let s: RealServer | undefined;
let skip: string | false = false;
let out: OutsideNet;

before(async () => {
  out = await createOutsideNet({ index: 2 });
  const r = await startRealServer('sec-egress');
  if (typeof r === 'string') skip = r;
  else s = r;
});
after(async () => {
  await s?.stop();
  await out?.close();
});

async function json(res: Awaited<ReturnType<RealServer['api']>>, status: number): Promise<any> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text ? JSON.parse(text) : undefined;
}

function e2b(path: string, method: string, body?: unknown) {
  return s!.api(`/e2b${path}`, { method, ...(body !== undefined ? { json: body } : {}) });
}

async function nativeCreate(network?: unknown): Promise<string> {
  return (await json(await s!.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', ...(network ? { network } : {}) } }), 201)).id;
}

async function e2bCreate(extra: Record<string, unknown> = {}): Promise<string> {
  return (await json(await e2b('/sandboxes', 'POST', { templateID: 'busybox', timeout: 120, ...extra }), 201)).sandboxID;
}

/** What the sandbox gets from `http://<ip>:8080/`, through the native exec route: `outside <ip>` or BLOCKED. */
async function reach(id: string, ip: string): Promise<string> {
  const r = await json(await s!.api(`/v1/sandboxes/${id}/exec`, {
    method: 'POST', json: { cmd: `timeout 3 wget -q -O - http://${ip}:8080/ 2>/dev/null || echo BLOCKED` },
  }), 200);
  return String(r.stdout).trim();
}

const kill = (id: string) => s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE' });

describe('network policy through the APIs, enforced', { timeout: 240_000 }, () => {
  it('native create: network {defaultAction: deny, allow: [one address]}', async (t) => {
    if (skip) return t.skip(skip);
    const control = await nativeCreate();
    const id = await nativeCreate({ defaultAction: 'deny', allow: [`${out.ips[0]}/32`] });
    assert.equal(await reach(control, out.ips[1]!), `outside ${out.ips[1]}`, 'control: no policy reaches it');
    assert.equal(await reach(id, out.ips[0]!), `outside ${out.ips[0]}`);
    assert.equal(await reach(id, out.ips[1]!), 'BLOCKED');
    await kill(id);
    await kill(control);
  });

  it('native create: network {deny: [one address]} under the default allow', async (t) => {
    if (skip) return t.skip(skip);
    const id = await nativeCreate({ deny: [`${out.ips[1]}/32`] });
    assert.equal(await reach(id, out.ips[0]!), `outside ${out.ips[0]}`);
    assert.equal(await reach(id, out.ips[1]!), 'BLOCKED');
    await kill(id);
  });

  it('E2B create: allow_internet_access false cuts egress, true keeps it', async (t) => {
    if (skip) return t.skip(skip);
    const open = await e2bCreate({ allow_internet_access: true });
    const closed = await e2bCreate({ allow_internet_access: false });
    assert.equal(await reach(open, out.ips[0]!), `outside ${out.ips[0]}`);
    assert.equal(await reach(closed, out.ips[0]!), 'BLOCKED');
    await kill(open);
    await kill(closed);
  });

  it('E2B create: network.denyOut and allowOut (allowOut beats denyOut 0.0.0.0/0)', async (t) => {
    if (skip) return t.skip(skip);
    const denyOne = await e2bCreate({ network: { denyOut: [`${out.ips[1]}/32`] } });
    assert.equal(await reach(denyOne, out.ips[0]!), `outside ${out.ips[0]}`);
    assert.equal(await reach(denyOne, out.ips[1]!), 'BLOCKED');
    const onlyOne = await e2bCreate({ network: { allowOut: [`${out.ips[0]}/32`], denyOut: ['0.0.0.0/0'] } });
    assert.equal(await reach(onlyOne, out.ips[0]!), `outside ${out.ips[0]}`);
    assert.equal(await reach(onlyOne, out.ips[1]!), 'BLOCKED');
    await kill(denyOne);
    await kill(onlyOne);
  });

  it('E2B updateNetwork changes a running sandbox, and an empty body opens it again', async (t) => {
    if (skip) return t.skip(skip);
    const id = await e2bCreate();
    assert.equal(await reach(id, out.ips[2]!), `outside ${out.ips[2]}`);
    await json(await e2b(`/sandboxes/${id}/network`, 'PUT', { denyOut: [`${out.ips[2]}/32`] }), 204);
    assert.equal(await reach(id, out.ips[2]!), 'BLOCKED');
    assert.equal(await reach(id, out.ips[0]!), `outside ${out.ips[0]}`);
    await json(await e2b(`/sandboxes/${id}/network`, 'PUT', { denyOut: ['0.0.0.0/0'] }), 204);
    assert.equal(await reach(id, out.ips[0]!), 'BLOCKED');
    await json(await e2b(`/sandboxes/${id}/network`, 'PUT', {}), 204);
    assert.equal(await reach(id, out.ips[2]!), `outside ${out.ips[2]}`);
    await kill(id);
  });
});
