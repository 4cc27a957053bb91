/** Which policy entry a queried name matches; test/engine/dns-proxy.test.ts runs the proxy itself. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainMatches, domainVerdict } from './dns-proxy.ts';

describe('DNS verdicts', () => {
  it('matches exact names and wildcard subdomains; allow beats deny', () => {
    assert.ok(domainMatches('example.com', 'EXAMPLE.com.'));
    assert.ok(!domainMatches('example.com', 'www.example.com'));
    assert.ok(domainMatches('*.example.com', 'a.b.example.com'));
    assert.ok(!domainMatches('*.example.com', 'example.com'));
    const p = { defaultAction: 'allow' as const, allow: ['ok.example.com'], deny: ['*.example.com'] };
    assert.equal(domainVerdict(p, 'ok.example.com'), 'allow');
    assert.equal(domainVerdict(p, 'bad.example.com'), 'deny');
    assert.equal(domainVerdict(p, 'other.org'), 'default');
  });
});
