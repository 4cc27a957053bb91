/**
 * The DNS proxy on loopback against an upstream nameserver this test runs: what is forwarded,
 * what is answered locally, and which addresses an answer teaches. The name verdicts alone are
 * src/engine/network/dns-proxy.test.ts.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { EgressPolicy } from '../../src/engine/types.ts';
import { DnsProxy } from '../../src/engine/network/dns-proxy.ts';

/** Questions the upstream saw, and the source ports they came from. */
const seen: { name: string; port: number }[] = [];
let upstream: Socket;
let upstreamPort: number;
let proxy: DnsProxy;
let proxyPort: number;
let policy: EgressPolicy = { defaultAction: 'allow', allow: [], deny: [] };
let learnt: string[][] = [];
let learnAnswer = true;

const ANSWERS: Record<string, dnsPacket.Answer[]> = {
  'chain.allowed.test': [
    { type: 'A', name: 'chain.allowed.test', ttl: 120, data: '203.0.113.1' },
    { type: 'CNAME', name: 'chain.allowed.test', ttl: 120, data: 'cdn.elsewhere.test' },
    { type: 'A', name: 'cdn.elsewhere.test', ttl: 60, data: '203.0.113.2' },
    // Not the answer to this question: a hostile nameserver's extras.
    { type: 'A', name: 'victim.test', ttl: 60, data: '10.213.0.6' },
    { type: 'A', name: 'unrelated.test', ttl: 60, data: '203.0.113.3' },
  ],
};

async function ask(name: string, extraQuestion?: string): Promise<dnsPacket.Packet> {
  const s = createSocket('udp4');
  const questions = [{ type: 'A' as const, name }, ...(extraQuestion ? [{ type: 'A' as const, name: extraQuestion }] : [])];
  const msg = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), flags: dnsPacket.RECURSION_DESIRED, questions });
  try {
    return await new Promise((resolve, reject) => {
      s.once('message', (b) => resolve(dnsPacket.decode(b)));
      s.once('error', reject);
      s.send(msg, proxyPort, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

const rcode = (p: dnsPacket.Packet) => ((p.flags ?? 0) & 0xf);

before(async () => {
  upstream = createSocket('udp4');
  upstream.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0]!.name;
    seen.push({ name, port: rinfo.port });
    const answers = ANSWERS[name] ?? [{ type: 'A', name, ttl: 60, data: '203.0.113.9' }];
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  upstreamPort = upstream.address().port;
  // A free port for the proxy: bind, read, release.
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  proxyPort = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  proxy = new DnsProxy({
    port: proxyPort,
    upstream: `127.0.0.1:${upstreamPort}`,
    lookup: (ip) => (ip === '127.0.0.1' ? { policy, learn: async (ips) => { learnt.push(ips); return learnAnswer; } } : undefined),
  });
  await proxy.start();
});

after(async () => {
  await proxy?.stop();
  upstream?.close();
});

describe('DNS proxy', () => {
  it('answers a denied name NXDOMAIN without asking upstream; a name that is not denied is forwarded', async () => {
    policy = { defaultAction: 'allow', allow: [], deny: ['*.evil.test'] };
    seen.length = 0;
    assert.equal(rcode(await ask('secret-bits.evil.test')), 3);
    assert.equal(rcode(await ask('fine.test')), 0);
    assert.deepEqual(seen.map((s) => s.name), ['fine.test']);
  });

  it('answers names outside an allow-only policy NXDOMAIN without asking upstream', async () => {
    policy = { defaultAction: 'deny', allow: ['*.allowed.test'], deny: [] };
    seen.length = 0;
    assert.equal(rcode(await ask('other.test')), 3);
    assert.equal(rcode(await ask('a.allowed.test')), 0);
    assert.deepEqual(seen.map((s) => s.name), ['a.allowed.test']);
  });

  it('refuses a query with a second question instead of forwarding it', async () => {
    policy = { defaultAction: 'deny', allow: ['*.allowed.test'], deny: [] };
    seen.length = 0;
    assert.equal(rcode(await ask('a.allowed.test', 'exfil.evil.test')), 5);
    assert.deepEqual(seen, []);
  });

  it('learns only the addresses of the queried name and its CNAME chain', async () => {
    policy = { defaultAction: 'deny', allow: ['*.allowed.test'], deny: [] };
    learnt = [];
    const answer = await ask('chain.allowed.test');
    assert.equal(answer.answers?.length, 5, 'the sandbox gets the upstream answer as it was');
    assert.deepEqual(learnt, [['203.0.113.1', '203.0.113.2']]);
  });

  it('answers SERVFAIL when the sandbox may not learn more addresses now', async () => {
    policy = { defaultAction: 'deny', allow: ['*.allowed.test'], deny: [] };
    learnAnswer = false;
    try {
      assert.equal(rcode(await ask('b.allowed.test')), 2);
    } finally {
      learnAnswer = true;
    }
  });

  it('forwards every query through one upstream socket', async () => {
    policy = { defaultAction: 'allow', allow: [], deny: [] };
    seen.length = 0;
    await Promise.all(Array.from({ length: 50 }, (_, i) => ask(`n${i}.test`)));
    assert.equal(seen.length, 50);
    assert.equal(new Set(seen.map((s) => s.port)).size, 1);
  });
});
