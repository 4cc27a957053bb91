import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentboxError } from '../../api/errors.ts';
import { linkAddresses } from './addresses.ts';
import { domainMatches, domainVerdict } from './dns-proxy.ts';
import { parseEgressEntry, renderBaseTable, renderSandboxRules, validateEgressPolicy } from './egress.ts';

const table = { table: 'agentbox', subnet: '10.213.0.0/16', ifacePrefix: 'abx', dnsPort: 10053, nat: false };

describe('egress rules', () => {
  it('orders allow before deny before the always-denied ranges before the default', () => {
    const rules = renderSandboxRules(table, linkAddresses(table.subnet, 5), { defaultAction: 'deny', allow: ['1.2.3.0/24', 'a.example'], deny: ['8.8.8.8'] });
    const fwd = rules.split('\n').filter((l) => l.startsWith('add rule inet agentbox s5_fwd'));
    assert.deepEqual(fwd.map((l) => l.replace('add rule inet agentbox s5_fwd ', '')), [
      'ip daddr @s5_allow accept', 'ip daddr @s5_allow_dns accept', 'ip daddr @s5_deny drop', 'ip daddr @s5_deny_dns drop',
      'ip daddr @always_denied drop', 'meta nfproto ipv6 drop', 'drop',
    ]);
    assert.match(rules, /add element inet agentbox s5_allow \{ 1\.2\.3\.0\/24 \}/);
    assert.match(rules, /add element inet agentbox s5_deny \{ 8\.8\.8\.8 \}/);
    assert.doesNotMatch(rules, /a\.example/, 'domains are enforced through DNS, not as set elements');
  });

  it('denies private ranges, loopback and metadata by default and masquerades only when asked', () => {
    const base = renderBaseTable(table);
    for (const cidr of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8', '100.64.0.0/10']) assert.ok(base.includes(cidr), cidr);
    assert.doesNotMatch(base, /masquerade/);
    assert.match(renderBaseTable({ ...table, nat: true }), /masquerade/);
    assert.match(base, /redirect to :10053/);
  });

  it('classifies entries and rejects junk and IPv6', () => {
    assert.deepEqual(parseEgressEntry('10.0.0.0/8'), { kind: 'cidr', value: '10.0.0.0/8' });
    assert.deepEqual(parseEgressEntry('*.Example.COM.'), { kind: 'domain', value: '*.example.com' });
    for (const bad of ['not a domain', '::1', '1.2.3.4/40', 'http://x.com']) {
      assert.throws(() => parseEgressEntry(bad), (e: AgentboxError) => e.code === 'invalid_argument', bad);
    }
    assert.throws(() => validateEgressPolicy({ defaultAction: 'maybe' as never, allow: [], deny: [] }), /defaultAction/);
  });
});

describe('DNS verdicts', () => {
  it('matches exact names and wildcard subdomains; allow beats deny', () => {
    assert.ok(domainMatches('example.com', 'EXAMPLE.com.'));
    assert.ok(!domainMatches('example.com', 'www.example.com'));
    assert.ok(domainMatches('*.example.com', 'a.b.example.com'));
    assert.ok(!domainMatches('*.example.com', 'example.com'));
    const policy = { defaultAction: 'allow' as const, allow: ['ok.example.com'], deny: ['*.example.com'] };
    assert.equal(domainVerdict(policy, 'ok.example.com'), 'allow');
    assert.equal(domainVerdict(policy, 'bad.example.com'), 'deny');
    assert.equal(domainVerdict(policy, 'other.org'), 'default');
  });
});
