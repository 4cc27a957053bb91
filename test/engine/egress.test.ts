/**
 * Network isolation and egress policy on real network namespaces and nftables. The "outside"
 * host is a namespace this test creates (outside-net.ts), reached only through this machine's
 * own routing; nothing leaves the machine.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SandboxInfo } from '../../src/engine/types.ts';
import { sh, startTestEngine, type TestEngine } from './fixture.ts';
import { createOutsideNet, outsideIp, type OutsideNet } from './outside-net.ts';

const OUTSIDE = [outsideIp(0, 1), outsideIp(0, 2), outsideIp(0, 3)];
let t: TestEngine;
let out: OutsideNet;
let hostService: Server;
let hostPort: number;

/** HTTP GET from inside the sandbox with busybox wget (its -T flag crashes under gVisor, so `timeout` bounds it); returns the body or 'BLOCKED'. */
async function fetchFrom(sbx: SandboxInfo, url: string): Promise<string> {
  return sh(t.engine, sbx.id, `timeout 3 wget -q -O - ${url} 2>/dev/null || echo BLOCKED`);
}

async function resolveFrom(sbx: SandboxInfo, name: string): Promise<string> {
  return sh(t.engine, sbx.id, `nslookup ${name} >/dev/null 2>&1 && echo RESOLVED || echo NXDOMAIN`);
}

before(async () => {
  out = await createOutsideNet({ index: 0, names: { 'allowed.test': OUTSIDE[0]!, 'other.test': OUTSIDE[1]!, 'denied.test': OUTSIDE[2]! } });
  t = await startTestEngine('egress', { network: { dnsUpstream: `${OUTSIDE[0]}:53` } });
  await t.templates.ensure('busybox');
  hostService = createServer((s) => s.end('host secret\n'));
  await new Promise<void>((r) => hostService.listen(0, '0.0.0.0', () => r()));
  hostPort = (hostService.address() as { port: number }).port;
});

after(async () => {
  await t?.cleanup();
  hostService?.close();
  await out?.close();
});

describe('default egress policy', () => {
  it('reaches public addresses but not the host, other sandboxes or private ranges', async () => {
    const a = await t.engine.run({ template: 'busybox' });
    const b = await t.engine.run({ template: 'busybox' });
    assert.equal(await fetchFrom(a, `http://${OUTSIDE[0]}:8080/`), `outside ${OUTSIDE[0]}`);
    // The host's service on the sandbox link address and on the outside-facing address.
    const hostIp = a.address.replace(/\d+$/, (d) => String(Number(d) - 1));
    for (const ip of [hostIp, out.hostIp]) {
      assert.equal(await out.exec(['busybox', 'nc', '-w', '3', ip, String(hostPort)]), 'host secret', `control: the service answers at ${ip}`);
      assert.equal(await sh(t.engine, a.id, `nc -w 2 ${ip} ${hostPort} </dev/null 2>/dev/null || echo BLOCKED`), 'BLOCKED', `host service at ${ip}`);
    }
    // Another sandbox's guest port (control: the host reaches it).
    assert.equal(await sh(t.engine, b.id, 'echo up'), 'up');
    assert.equal(await fetchFrom(a, `http://${b.address}:49983/health`), 'BLOCKED');
    // Names resolve through the sandbox's DNS proxy.
    assert.equal(await resolveFrom(a, 'allowed.test'), 'RESOLVED');
    await t.engine.destroy(a.id);
    await t.engine.destroy(b.id);
  });
});

describe('policy changes while the sandbox runs', () => {
  it('denies and re-allows a CIDR; allow beats deny', async () => {
    const s = await t.engine.run({ template: 'busybox' });
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[1]}:8080/`), `outside ${OUTSIDE[1]}`);
    await t.engine.setEgress(s.id, { defaultAction: 'allow', allow: [], deny: ['198.51.100.0/24'] });
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[1]}:8080/`), 'BLOCKED');
    await t.engine.setEgress(s.id, { defaultAction: 'allow', allow: [`${OUTSIDE[1]}/32`], deny: ['198.51.100.0/24'] });
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[1]}:8080/`), `outside ${OUTSIDE[1]}`);
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[0]}:8080/`), 'BLOCKED');
    assert.deepEqual(t.engine.get(s.id).egress.allow, [`${OUTSIDE[1]}/32`]);
    await t.engine.destroy(s.id);
  });

  it('allows only named domains under a deny-by-default policy (DNS-aware)', async () => {
    const s = await t.engine.run({ template: 'busybox', egress: { defaultAction: 'deny', allow: ['allowed.test'], deny: [] } });
    assert.equal(await resolveFrom(s, 'other.test'), 'NXDOMAIN');
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[1]}:8080/`), 'BLOCKED');
    assert.equal(await fetchFrom(s, 'http://allowed.test:8080/'), `outside ${OUTSIDE[0]}`);
    await t.engine.destroy(s.id);
  });

  it('blocks a denied domain by name (its addresses take a CIDR entry)', async () => {
    const s = await t.engine.run({ template: 'busybox', egress: { defaultAction: 'allow', allow: [], deny: ['denied.test'] } });
    assert.equal(await resolveFrom(s, 'other.test'), 'RESOLVED');
    assert.equal(await resolveFrom(s, 'denied.test'), 'NXDOMAIN');
    assert.equal(await fetchFrom(s, 'http://denied.test:8080/'), 'BLOCKED');
    await t.engine.setEgress(s.id, { defaultAction: 'allow', allow: [], deny: ['denied.test', `${OUTSIDE[2]}/32`] });
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[1]}:8080/`), `outside ${OUTSIDE[1]}`);
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[2]}:8080/`), 'BLOCKED');
    await t.engine.destroy(s.id);
  });
});
