import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentboxError } from '../../api/errors.ts';
import { parseEgressEntry, validateEgressPolicy } from './egress.ts';
import { floorCovers, parseAllowPrivate } from './floor.ts';

describe('egress entries', () => {
  it('classifies entries and rejects junk and IPv6 (mapped forms included)', () => {
    assert.deepEqual(parseEgressEntry('10.0.0.0/8'), { kind: 'cidr', value: '10.0.0.0/8' });
    assert.deepEqual(parseEgressEntry('*.Example.COM.'), { kind: 'domain', value: '*.example.com' });
    for (const bad of ['not a domain', '::1', '::ffff:169.254.169.254', 'fd00:ec2::254', '1.2.3.4/40', 'http://x.com']) {
      assert.throws(() => parseEgressEntry(bad), (e: AgentboxError) => e.code === 'invalid_argument', bad);
    }
    assert.throws(() => validateEgressPolicy({ defaultAction: 'maybe' as never, allow: [], deny: [] }), /defaultAction/);
  });
});

describe('egress floor', () => {
  const covers = floorCovers({ subnet: '10.213.0.0/16', allowPrivate: [] });

  it('covers metadata, private, shared, loopback, benchmarking, multicast and reserved addresses', () => {
    for (const ip of ['169.254.169.254', '100.100.100.200', '168.63.129.16', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1',
      '100.64.0.1', '127.0.0.1', '0.1.2.3', '198.18.0.1', '198.19.255.255', '224.0.0.1', '240.0.0.1', '255.255.255.255', '192.0.0.1']) {
      assert.ok(covers(ip), ip);
    }
    for (const ip of ['1.1.1.1', '8.8.8.8', '172.32.0.1', '172.15.255.255', '100.128.0.1', '198.20.0.1', '11.0.0.1', '169.255.0.1']) {
      assert.ok(!covers(ip), ip);
    }
  });

  it('covers the host\'s own addresses and the engine subnet, which allow-private cannot lift', () => {
    const lifted = floorCovers({ subnet: '10.213.0.0/16', allowPrivate: parseAllowPrivate('10.0.0.0/8, 169.254.169.254/32 172.16.5.0/24') });
    assert.ok(lifted('10.213.4.6'), 'another sandbox');
    assert.ok(lifted('127.0.0.1'), 'the host (loopback is an address of the host)');
    assert.ok(!lifted('10.9.9.9'));
    assert.ok(!lifted('169.254.169.254'));
    assert.ok(lifted('169.254.169.253'), 'only what the operator named is lifted');
    assert.ok(!lifted('172.16.5.7'));
    assert.ok(lifted('172.16.6.7'));
  });

  it('refuses an allow-private entry that is not an IPv4 CIDR, saying what to write', () => {
    assert.deepEqual(parseAllowPrivate(['10.1.2.3/8']), ['10.0.0.0/8']);
    assert.throws(() => parseAllowPrivate('10.0.0.0/8,fd00::/8'), (e: AgentboxError) => e.code === 'invalid_argument' && /fd00::\/8.*IPv4 CIDR/.test(e.message));
  });
});
