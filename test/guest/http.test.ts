// test-file-guests: typescript native
// envd's REST side against a real guest: /files (multipart, octet-stream, gzip, signatures),
// /health, /envs, /metrics, /init, and the access-token rule across REST and RPC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Code, ConnectError } from '@connectrpc/connect';
import { fileSignature } from '../../src/guest/auth.ts';
import { createGuestClient } from '../../src/envd/client.ts';
import { startGuest, type RunningGuest } from './fixture.ts';

let g: RunningGuest;
let root: string;
before(async () => {
  g = await startGuest();
  root = join(g.dir, 'files');
  mkdirSync(root);
  // Writes for 'nobody' are made with nobody's permissions: give it a /tmp-like place.
  chmodSync(g.dir, 0o755);
  chmodSync(root, 0o1777);
});
after(async () => { await g?.stop(); });

const auth = () => ({ 'x-access-token': g.accessToken });
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('POST /files', () => {
  test('multipart: the part filename is the path when the query has none; parents created; chowned', async () => {
    const form = new FormData();
    form.append('file', new Blob(['alpha']), join(root, 'm', 'one.txt'));
    form.append('file', new Blob(['beta']), join(root, 'm', 'two.txt'));
    const res = await fetch(`${g.url}/files?${q({ username: 'nobody' })}`, { method: 'POST', body: form, headers: auth() });
    assert.equal(res.status, 200);
    const body = await res.json() as { name: string; path: string; type: string }[];
    assert.deepEqual(body.map((f) => [f.name, f.path, f.type]), [
      ['one.txt', join(root, 'm', 'one.txt'), 'file'],
      ['two.txt', join(root, 'm', 'two.txt'), 'file'],
    ]);
    assert.equal(readFileSync(join(root, 'm', 'two.txt'), 'utf8'), 'beta');
    assert.equal(statSync(join(root, 'm', 'one.txt')).uid, 65534);
    assert.equal(statSync(join(root, 'm')).uid, 65534);
  });

  test('multipart with a path query writes there', async () => {
    const form = new FormData();
    form.append('file', new Blob(['gamma']), 'ignored-name');
    const res = await fetch(`${g.url}/files?${q({ path: join(root, 'q.txt') })}`, { method: 'POST', body: form, headers: auth() });
    assert.equal(res.status, 200);
    assert.equal(readFileSync(join(root, 'q.txt'), 'utf8'), 'gamma');
  });

  test('a part with an empty filename and no path query is 400, and the guest keeps serving', async () => {
    const form = new FormData();
    form.append('file', new Blob(['lost']), '');
    const res = await fetch(`${g.url}/files`, { method: 'POST', body: form, headers: auth() });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /no filename and the path query is absent/);
    assert.equal((await fetch(`${g.url}/health`)).status, 204);
  });

  test('an upload under /proc, where mkdir answers ENOENT beside an existing parent, is 404 and the guest keeps serving', async () => {
    const res = await fetch(`${g.url}/files?${q({ path: '/proc/agentbox-x/f.txt' })}`, {
      method: 'POST', body: 'x', headers: { ...auth(), 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 404);
    assert.equal((await fetch(`${g.url}/health`)).status, 204);
  });

  test('octet-stream, plain and gzip-encoded', async () => {
    let res = await fetch(`${g.url}/files?${q({ path: join(root, 'raw.bin') })}`, {
      method: 'POST', body: Buffer.from([0, 1, 2, 255]), headers: { ...auth(), 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual([...readFileSync(join(root, 'raw.bin'))], [0, 1, 2, 255]);
    res = await fetch(`${g.url}/files?${q({ path: join(root, 'gz', 'z.txt') })}`, {
      method: 'POST', body: gzipSync('zipped!'), headers: { ...auth(), 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' },
    });
    assert.equal(res.status, 200);
    assert.equal(readFileSync(join(root, 'gz', 'z.txt'), 'utf8'), 'zipped!');
    res = await fetch(`${g.url}/files`, { method: 'POST', body: 'x', headers: { ...auth(), 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { code: number }).code, 400);
  });
});

describe('GET /files', () => {
  test('X-Metadata-* headers become the files\' metadata, returned by the write and by Stat; an overwrite replaces it', async () => {
    const path = join(root, 'meta', 'm.txt');
    const post = (headers: Record<string, string>, body = 'content') => fetch(`${g.url}/files?${q({ path, username: 'nobody' })}`, {
      method: 'POST', body, headers: { ...auth(), 'content-type': 'application/octet-stream', ...headers },
    });
    let res = await post({ 'X-Metadata-Author': 'mish', 'x-metadata-purpose': 'upload' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), [{ name: 'm.txt', path, type: 'file', metadata: { author: 'mish', purpose: 'upload' } }]);
    const stat = async () => (await g.client.filesystem.stat({ path })).entry?.metadata;
    assert.deepEqual(await stat(), { author: 'mish', purpose: 'upload' });
    // An overwrite keeps a file's xattrs, so a write without metadata must clear them.
    res = await post({ 'X-Metadata-Author': 'kept' });
    assert.deepEqual((await res.json() as { metadata?: object }[])[0]?.metadata, { author: 'kept' });
    res = await post({});
    assert.deepEqual(await res.json(), [{ name: 'm.txt', path, type: 'file' }]);
    assert.deepEqual(await stat(), {});

    const form = new FormData();
    form.append('file', new Blob(['1']), join(root, 'meta', 'one.txt'));
    form.append('file', new Blob(['2']), join(root, 'meta', 'two.txt'));
    res = await fetch(`${g.url}/files`, { method: 'POST', body: form, headers: { ...auth(), 'X-Metadata-Source': 'suite' } });
    assert.deepEqual((await res.json() as { metadata?: object }[]).map((f) => f.metadata), [{ source: 'suite' }, { source: 'suite' }]);
  });

  test('bad metadata is 400 and writes nothing', async () => {
    const path = join(root, 'meta-bad.txt');
    const bad: Record<string, string>[] = [{ ['X-Metadata-' + 'k'.repeat(247)]: 'v' }, { 'X-Metadata-A': 'x'.repeat(2100), 'X-Metadata-B': 'y'.repeat(2100) }];
    for (const headers of bad) {
      const res = await fetch(`${g.url}/files?${q({ path })}`, { method: 'POST', body: 'x', headers: { ...auth(), 'content-type': 'application/octet-stream', ...headers } });
      assert.equal(res.status, 400);
      const body = await res.json() as { code: number; message: string };
      assert.equal(body.code, 400);
      assert.match(body.message, /metadata/);
    }
    assert.ok(!existsSync(path));
  });

  test('plain and gzip download with Content-Disposition; 406 for unsupported encodings', async () => {
    writeFileSync(join(root, 'dl.txt'), 'download me '.repeat(100));
    const url = `${g.url}/files?${q({ path: join(root, 'dl.txt') })}`;
    let res = await fetch(url, { headers: { ...auth(), 'accept-encoding': 'identity' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition')?.startsWith('inline; filename="dl.txt"'), true);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'download me '.repeat(100));
    // Raw socket-level check of the gzip body (fetch would decode it transparently).
    const raw = await rawGet(`/files?${q({ path: join(root, 'dl.txt') })}`, { ...auth(), 'accept-encoding': 'gzip' });
    assert.equal(raw.headers['content-encoding'], 'gzip');
    assert.equal(raw.headers.vary, 'Accept-Encoding');
    assert.equal(gunzipSync(raw.body).toString(), 'download me '.repeat(100));
    res = await fetch(url, { headers: { ...auth(), 'accept-encoding': 'br, identity;q=0' } });
    assert.equal(res.status, 406);
  });

  test('files on either side of the one-read size (64 KiB) come back whole, plain and gzip, with their length and type; HEAD sends none', async () => {
    for (const [name, data] of [['small.bin', Buffer.alloc(64 * 1024, 0)], ['large.bin', Buffer.alloc(64 * 1024 + 1, 0)], ['large.txt', Buffer.from('line\n'.repeat(40_000))]] as const) {
      writeFileSync(join(root, name), data);
      const path = `/files?${q({ path: join(root, name) })}`;
      const plain = await rawGet(path, { ...auth(), 'accept-encoding': 'identity' });
      assert.deepEqual([plain.headers['content-length'], plain.body.equals(data)], [String(data.length), true], name);
      assert.equal(plain.headers['content-type'], name.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'application/octet-stream');
      const zipped = await rawGet(path, { ...auth(), 'accept-encoding': 'gzip' });
      assert.equal(gunzipSync(zipped.body).equals(data), true, name);
      const head = await fetch(`${g.url}${path}`, { method: 'HEAD', headers: { ...auth(), 'accept-encoding': 'identity' } });
      assert.deepEqual([head.status, head.headers.get('content-length'), await head.text()], [200, String(data.length), '']);
    }
  });

  test('a file that grows while it is sent comes back at the size it had, and the next response on the connection is whole', async () => {
    const path = join(root, 'growing.bin');
    const size = 8 << 20;
    writeFileSync(path, Buffer.alloc(size, 0x61));
    const { hostname, port } = new URL(g.url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    const request = (method: string) => `${method} /files?${q({ path })} HTTP/1.1\r\nHost: guest\r\nx-access-token: ${g.accessToken}\r\naccept-encoding: identity\r\n\r\n`;
    let received = Buffer.alloc(0);
    const arrived = (n: number) => new Promise<void>((resolve) => {
      const check = () => { if (received.length >= n) { socket.off('data', onData); resolve(); } };
      const onData = (c: Buffer) => { received = Buffer.concat([received, c]); check(); };
      socket.on('data', onData);
      check();
    });
    socket.write(request('GET'));
    // The headers are out and the body is on its way: the guest holds most of it back until
    // this side reads (8 MiB is far more than a socket buffers). The file grows meanwhile.
    await arrived(1);
    appendFileSync(path, Buffer.alloc(1 << 20, 0x62));
    const headerEnd = received.indexOf('\r\n\r\n') + 4;
    assert.match(received.subarray(0, headerEnd).toString(), new RegExp(`content-length: ${size}\r\n`, 'i'));
    await arrived(headerEnd + size);
    assert.equal(received.subarray(headerEnd, headerEnd + size).every((b) => b === 0x61), true);
    // The next request on the same connection: what follows the body must be its response.
    socket.write(request('HEAD'));
    await arrived(headerEnd + size + 12);
    socket.destroy();
    assert.equal(received.subarray(headerEnd + size, headerEnd + size + 12).toString(), 'HTTP/1.1 200');
  });

  test('bytes that do not compress come back as they are to a client that accepts gzip, unless it refuses identity', async () => {
    for (const [name, data] of [['random-small.bin', randomBytes(1000)], ['random-large.bin', randomBytes(200 * 1024)]] as const) {
      writeFileSync(join(root, name), data);
      const path = `/files?${q({ path: join(root, name) })}`;
      const asIs = await rawGet(path, { ...auth(), 'accept-encoding': 'gzip, deflate' });
      assert.deepEqual([asIs.headers['content-encoding'], asIs.headers['content-length'], asIs.headers.vary, asIs.body.equals(data)], [undefined, String(data.length), 'Accept-Encoding', true], name);
      const head = await fetch(`${g.url}${path}`, { method: 'HEAD', headers: { ...auth(), 'accept-encoding': 'gzip' } });
      assert.deepEqual([head.headers.get('content-encoding'), head.headers.get('content-length')], [null, String(data.length)], `${name}: HEAD says what GET sends`);
      const forced = await rawGet(path, { ...auth(), 'accept-encoding': 'gzip, identity;q=0' });
      assert.equal(forced.headers['content-encoding'], 'gzip', name);
      assert.equal(gunzipSync(forced.body).equals(data), true, name);
    }
  });

  test('404 for a missing file, 400 for a directory or no path, both as JSON {code, message}', async () => {
    let res = await fetch(`${g.url}/files?${q({ path: join(root, 'missing') })}`, { headers: auth() });
    assert.equal(res.status, 404);
    const body = await res.json() as { code: number; message: string };
    assert.equal(body.code, 404);
    assert.match(body.message, /does not exist/);
    res = await fetch(`${g.url}/files?${q({ path: root })}`, { headers: auth() });
    assert.equal(res.status, 400);
    // Every API that reads through here (native, E2B, OpenSandbox) shows this message: no one API's call in it.
    assert.equal((await res.json() as { message: string }).message, `'${root}' is a directory, not a file`);
    res = await fetch(`${g.url}/files`, { headers: auth() });
    assert.equal(res.status, 400);
  });

  test('a v1_ signature replaces the token; wrong, expired or other-path signatures are 401', async () => {
    const path = join(root, 'signed.txt');
    writeFileSync(path, 'signed');
    const sig = fileSignature(path, 'read', '', g.accessToken);
    let res = await fetch(`${g.url}/files?${q({ path, signature: sig })}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'signed');
    res = await fetch(`${g.url}/files?${q({ path })}`);
    assert.equal(res.status, 401);
    res = await fetch(`${g.url}/files?${q({ path: join(root, 'dl.txt'), signature: sig })}`);
    assert.equal(res.status, 401);
    const past = Math.floor(Date.now() / 1000) - 10;
    res = await fetch(`${g.url}/files?${q({ path, signature: fileSignature(path, 'read', '', g.accessToken, past), signature_expiration: String(past) })}`);
    assert.equal(res.status, 401);
    const future = Math.floor(Date.now() / 1000) + 60;
    res = await fetch(`${g.url}/files?${q({ path, signature: fileSignature(path, 'read', '', g.accessToken, future), signature_expiration: String(future) })}`);
    assert.equal(res.status, 200);
    const wsig = fileSignature(join(root, 'w.txt'), 'write', 'nobody', g.accessToken);
    res = await fetch(`${g.url}/files?${q({ path: join(root, 'w.txt'), username: 'nobody', signature: wsig })}`, {
      method: 'POST', body: 'w', headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(res.status, 200);
    assert.equal(statSync(join(root, 'w.txt')).uid, 65534);
  });

  test('an unknown user is 401', async () => {
    const res = await fetch(`${g.url}/files?${q({ path: join(root, 'dl.txt'), username: 'ghost' })}`, { headers: auth() });
    assert.equal(res.status, 401);
  });
});

describe('access token, /health, /envs, /metrics, /init', () => {
  test('/health needs no token; /envs and /metrics do', async () => {
    assert.equal((await fetch(`${g.url}/health`)).status, 204);
    assert.equal((await fetch(`${g.url}/envs`)).status, 401);
    const envs = await fetch(`${g.url}/envs`, { headers: auth() });
    assert.deepEqual(await envs.json(), { SANDBOX_WIDE: 'yes' });
    const m = await (await fetch(`${g.url}/metrics`, { headers: auth() })).json() as Record<string, number>;
    for (const k of ['ts', 'cpu_count', 'cpu_used_pct', 'mem_total', 'mem_used', 'mem_cache', 'mem_total_mib', 'mem_used_mib', 'disk_used', 'disk_total']) {
      assert.equal(typeof m[k], 'number', k);
    }
    assert.ok(m.mem_total! > 0 && m.disk_total! > 0);
  });

  test('RPCs without or with a wrong token are Unauthenticated', async () => {
    const anon = createGuestClient({ url: g.url });
    const wrong = createGuestClient({ url: g.url, accessToken: 'wrong' });
    try {
      for (const c of [anon, wrong]) {
        await assert.rejects(c.process.list({}), (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated);
        await assert.rejects(c.filesystem.stat({ path: '/' }), (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated);
        await assert.rejects(c.exec({ cmd: ['true'] }), /X-Access-Token/);
      }
      assert.equal(await anon.health(), true);
    } finally {
      anon.close();
      wrong.close();
    }
  });

  test('/init needs the init secret, replaces the token and merges env vars', async () => {
    const res = await fetch(`${g.url}/init`, { method: 'POST', body: '{"accessToken":"x"}', headers: { 'x-agentbox-init-secret': 'nope' } });
    assert.equal(res.status, 401);
    await g.client.init(g.initSecret, { accessToken: 'rotated-token', envVars: { ADDED: '1' } });
    const fresh = createGuestClient({ url: g.url, accessToken: 'rotated-token' });
    try {
      const r = await fresh.exec({ cmd: ['/bin/sh', '-c', 'echo $SANDBOX_WIDE $ADDED'] });
      assert.equal(r.stdout, 'yes 1\n');
      await assert.rejects(g.client.process.list({}), (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated);
      await fresh.init(g.initSecret, { accessToken: g.accessToken });
    } finally {
      fresh.close();
    }
    assert.ok((await g.client.process.list({})).processes);
  });
});

async function rawGet(path: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    request(`${g.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}
