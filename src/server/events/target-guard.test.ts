import assert from 'node:assert/strict';
import { test } from 'node:test';
import { e2bSignature } from './signature.ts';
import { checkWebhookUrl, guardedLookup, isPublicAddress } from './target-guard.ts';

test('loopback, private, link-local, metadata and non-global IPv6 addresses are not public', () => {
  for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '2001:db8::1']) {
    assert.equal(isPublicAddress(ip), false, ip);
  }
  for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) assert.equal(isPublicAddress(ip), true, ip);
});

test('a webhook URL is http(s) without credentials, and an address literal must be public unless allowed', () => {
  assert.throws(() => checkWebhookUrl('ftp://example.com/', false), { code: 'invalid_argument' });
  assert.throws(() => checkWebhookUrl('http://user:pw@example.com/', false), { code: 'invalid_argument' });
  for (const url of ['http://127.0.0.1:8080/hook', 'http://[::1]/', 'http://169.254.169.254/latest', 'http://[::ffff:10.0.0.1]/']) {
    assert.throws(() => checkWebhookUrl(url, false), { code: 'permission_denied' }, url);
  }
  assert.equal(checkWebhookUrl('http://127.0.0.1:8080/hook', true).port, '8080');
  assert.equal(checkWebhookUrl('https://hooks.example.com/x', false).host, 'hooks.example.com');
});

test('a name that resolves to a private address is refused at connect time, unless allowed', async () => {
  const resolve = (allow: boolean) => new Promise<string>((ok, fail) => {
    guardedLookup(allow)('localhost', { family: 4 }, (err, address) => (err ? fail(err) : ok(String(address))));
  });
  await assert.rejects(resolve(false), { code: 'permission_denied' });
  assert.equal(await resolve(true), '127.0.0.1');
});

test("the signature is E2B's: base64 of sha256(secret + body) without padding", () => {
  // sha256("secret{}") computed independently: printf 'secret{}' | sha256sum | xxd -r -p | base64
  assert.equal(e2bSignature('secret', '{}'), 'e9B8ejqc2/sG6v6Lh2cAHsXgRKkAkGentpGLCOuoSYs');
});
