// What a fake guest (root in a sandbox serving its own program on the guest's port) cannot make
// the server do through the files client (src/envd/files.ts), which the native API and the
// OpenSandbox façade read and write files with:
// - send the server elsewhere: a redirect would have the server fetch any address it can reach
//   (its loopback services, a cloud's metadata address, other sandboxes) and hand the answer to
//   the tenant as the file's content;
// - make the server keep what a tenant uploads: the upload streams to the guest and is not held
//   (a copy kept for a redirect would grow with every byte, as fetch keeps one by default).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createGuestFiles } from '../../src/envd/files.ts';
import { Filesystem } from '../../src/guest/gen/filesystem_pb.ts';
import { fakeGuest, type FakeGuest } from '../support/fake-guest.ts';

const MiB = 1024 ** 2;

const filesClient = (url: string) => createGuestFiles(createClient(Filesystem, createConnectTransport({ baseUrl: url, httpVersion: '1.1' })), url, 'token');

describe('a guest that answers with a redirect', () => {
  // What the redirect points at: a host-local service the tenant must not reach.
  let secretHits = 0;
  let secret: FakeGuest;
  let guest: FakeGuest;
  before(async () => {
    secret = await fakeGuest((req, res) => { secretHits++; req.resume(); res.writeHead(200, { 'Content-Length': 14 }).end('the host\'s key'); });
    const secretUrl = `${secret.url}/latest/meta-data`;
    guest = await fakeGuest((req, res) => {
      req.resume();
      // 307 keeps the method and body, 303 turns the upload into a GET: each a way to send the server on.
      const status = req.method === 'GET' ? 302 : req.url!.includes('see-other') ? 303 : 307;
      res.writeHead(status, { Location: secretUrl, 'Content-Length': 0 }).end();
    });
  });
  after(async () => { await guest.close(); await secret.close(); });

  for (const [what, run] of [
    ['a download', async (f: ReturnType<typeof filesClient>) => { const d = await f.download('/etc/hostname', MiB); for await (const _ of d.body) { /* read it all */ } }],
    ['an upload (307)', (f: ReturnType<typeof filesClient>) => f.upload('/home/user/a.txt', Buffer.from('x'))],
    ['an upload (303)', (f: ReturnType<typeof filesClient>) => f.upload('/home/user/see-other.txt', Buffer.from('x'))],
  ] as const) {
    test(`${what} fails as the guest's fault and the server goes nowhere else`, async () => {
      const files = filesClient(guest.url);
      try {
        await assert.rejects(run(files), (e: Error & { code?: string }) => e.code === 'unavailable' && /redirect/.test(e.message) && !/the host's key/.test(e.message));
      } finally {
        files.close();
      }
      assert.equal(secretHits, 0, 'the server followed the guest to another address');
    });
  }
});

test('an upload streams through the server without being kept', { timeout: 300_000 }, async () => {
  const total = 1024 * MiB;
  let received = 0;
  const guest = await fakeGuest((req, res) => {
    req.on('data', (c: Buffer) => { received += c.length; });
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]'));
  });
  const files = filesClient(guest.url);
  const chunk = Buffer.alloc(MiB, 0x62);
  async function* upload() { for (let sent = 0; sent < total; sent += chunk.length) yield chunk; }
  const base = process.memoryUsage().rss;
  let grown = 0;
  const timer = setInterval(() => { grown = Math.max(grown, process.memoryUsage().rss - base); }, 20);
  try {
    await files.upload('/home/user/big.bin', upload());
  } finally {
    clearInterval(timer);
    files.close();
    await guest.close();
  }
  assert.equal(received, total);
  // Streamed, the server holds a few chunks at a time; kept, it grows by the whole upload.
  assert.ok(grown < 256 * MiB, `the server's memory grew by ${Math.round(grown / MiB)} MiB during a ${total / MiB} MiB upload`);
});
