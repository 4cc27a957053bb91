/**
 * Network isolation and egress policy on real network namespaces and nftables. The "outside"
 * host is a namespace this test creates (198.51.100.0/24, documentation range), reached only
 * through this machine's own routing; nothing leaves the machine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import type { SandboxInfo } from '../../src/engine/types.ts';
import { sh, startTestEngine, type TestEngine } from './fixture.ts';

const NS = 'agentbox-test-outside';
const HOST_IF = 'abtout0';
const OUTSIDE = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const NAMES = { 'allowed.test': OUTSIDE[0], 'other.test': OUTSIDE[1], 'denied.test': OUTSIDE[2] };

let t: TestEngine;
let outside: ChildProcess;
let hostService: Server;
let hostPort: number;

async function createOutsideHost(): Promise<void> {
  await runCommand('ip', ['netns', 'del', NS]).catch(() => undefined);
  await runCommand('ip', ['link', 'del', HOST_IF]).catch(() => undefined);
  const batch = [
    `netns add ${NS}`,
    `link add ${HOST_IF} type veth peer name eth0 netns ${NS}`,
    `addr add 198.51.100.254/24 dev ${HOST_IF}`,
    `link set ${HOST_IF} up`,
  ];
  await runCommand('ip', ['-batch', '-'], { input: batch.join('\n') + '\n' });
  const inside = [...OUTSIDE.map((ip) => `addr add ${ip}/24 dev eth0`), 'link set eth0 up', 'link set lo up', 'route add default via 198.51.100.254'];
  await runCommand('ip', ['-n', NS, '-batch', '-'], { input: inside.join('\n') + '\n' });
  outside = spawn('ip', ['netns', 'exec', NS, process.execPath, new URL('./outside-host.mjs', import.meta.url).pathname, JSON.stringify(NAMES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    outside.stdout!.once('data', () => resolve());
    outside.once('exit', (code) => reject(new Error(`outside host exited ${code}`)));
  });
}

/** HTTP GET from inside the sandbox with busybox wget (its -T flag crashes under gVisor, so `timeout` bounds it); returns the body or 'BLOCKED'. */
async function fetchFrom(sbx: SandboxInfo, url: string): Promise<string> {
  return sh(t.engine, sbx.id, `timeout 3 wget -q -O - ${url} 2>/dev/null || echo BLOCKED`);
}

async function resolveFrom(sbx: SandboxInfo, name: string): Promise<string> {
  return sh(t.engine, sbx.id, `nslookup ${name} >/dev/null 2>&1 && echo RESOLVED || echo NXDOMAIN`);
}

before(async () => {
  await createOutsideHost();
  t = await startTestEngine('egress', { network: { dnsUpstream: `${OUTSIDE[0]}:53` } });
  await t.templates.ensure('busybox');
  hostService = createServer((s) => s.end('host secret\n'));
  await new Promise<void>((r) => hostService.listen(0, '0.0.0.0', () => r()));
  hostPort = (hostService.address() as { port: number }).port;
});

after(async () => {
  await t?.cleanup();
  hostService?.close();
  if (outside?.pid) process.kill(outside.pid, 'SIGTERM');
  await runCommand('ip', ['netns', 'del', NS]).catch(() => undefined);
  await runCommand('ip', ['link', 'del', HOST_IF]).catch(() => undefined);
});

describe('default egress policy', () => {
  it('reaches public addresses but not the host, other sandboxes or private ranges', async () => {
    const a = await t.engine.run({ template: 'busybox' });
    const b = await t.engine.run({ template: 'busybox' });
    assert.equal(await fetchFrom(a, `http://${OUTSIDE[0]}:8080/`), `outside ${OUTSIDE[0]}`);
    // The host's service on the sandbox link address and on the outside-facing address.
    const hostIp = a.address.replace(/\d+$/, (d) => String(Number(d) - 1));
    for (const ip of [hostIp, '198.51.100.254']) {
      assert.equal(await sh(t.engine, a.id, `nc -w 2 ${ip} ${hostPort} </dev/null 2>/dev/null || echo BLOCKED`), 'BLOCKED', `host service at ${ip}`);
    }
    // Another sandbox's guest port.
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

  it('blocks a denied domain by name and by the addresses it resolves to', async () => {
    const s = await t.engine.run({ template: 'busybox', egress: { defaultAction: 'allow', allow: [], deny: ['denied.test'] } });
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[2]}:8080/`), `outside ${OUTSIDE[2]}`);
    assert.equal(await resolveFrom(s, 'denied.test'), 'NXDOMAIN');
    assert.equal(await fetchFrom(s, `http://${OUTSIDE[2]}:8080/`), 'BLOCKED');
    await t.engine.destroy(s.id);
  });
});
