// The SDK's file transfers (src/sdk/transfer.ts): content streams both ways in whatever form a
// caller has it, a transfer fails when nothing moves rather than when it is long, and a file of
// a gigabyte passes through the client without being held. Content round trips go through the
// real server over the FAKE engine (test/support/fake-engine.ts); the memory and stall checks
// use a loopback server standing in for the API, so the client's own memory and timing are what
// is measured.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InvalidArgumentError, Sandbox, TimeoutError, UnavailableError } from 'agentbox';
import { ApiClient, resolveConnection } from 'agentbox/internal';
import { fakeGuest, flood } from '../support/fake-guest.ts';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';

const MiB = 1024 ** 2;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clientOf = (apiUrl: string, requestTimeoutMs: number) => new ApiClient(resolveConnection({ apiUrl, apiKey: 'k', requestTimeoutMs }));

let s: FakeServer;
let sbx: Sandbox;
let dir: string;

before(async () => {
  s = await startFakeServer();
  sbx = await Sandbox.create({ apiUrl: s.server.url, apiKey: s.server.adminKey, template: 'busybox' });
  dir = mkdtempSync(join(tmpdir(), 'agentbox-sdk-files-'));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function streamedBack(path: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of await sbx.files.read(path, { format: 'stream' })) parts.push(part);
  return Buffer.concat(parts);
}

test('content in every form a caller has it arrives whole, and streams back', async () => {
  const content = randomBytes(3 * MiB + 17);
  const local = join(dir, 'local.bin');
  writeFileSync(local, content);
  const forms: Record<string, () => Parameters<Sandbox['files']['write']>[1]> = {
    'a Node read stream': () => createReadStream(local),
    'a web stream': () => new Blob([content]).stream(),
    'a Blob': () => new Blob([content]),
    'bytes': () => content,
    'an async generator': () => (async function* () { for (let at = 0; at < content.length; at += 100_000) yield content.subarray(at, at + 100_000); })(),
  };
  for (const [form, data] of Object.entries(forms)) {
    const path = `/streams/${form.replaceAll(' ', '-')}`;
    const entry = await sbx.files.write(path, data());
    assert.equal(entry.size, content.length, form);
    assert.equal(sha(await streamedBack(path)), sha(content), form);
    assert.equal(sha(await sbx.files.read(path, { format: 'bytes' })), sha(content), form);
  }
  await sbx.files.write('/streams/text', 'héllo');
  assert.equal(await sbx.files.read('/streams/text'), 'héllo');
});

test('a stream of text instead of bytes is refused with what to change', async () => {
  const text = createReadStream(join(dir, 'local.bin'), { encoding: 'utf8' });
  await assert.rejects(sbx.files.write('/streams/wrong', text), (err: Error) => err instanceof InvalidArgumentError && /must stream as bytes.*without an encoding/.test(err.message));
});

test('a transfer fails when nothing moves for requestTimeoutMs, not when it takes longer', async () => {
  const slow = await Sandbox.connect(sbx.sandboxId, { apiUrl: s.server.url, apiKey: s.server.adminKey, requestTimeoutMs: 1000 });
  async function* trickle() { for (let i = 0; i < 20; i++) { yield Buffer.from([i]); await sleep(100); } }
  assert.equal((await slow.files.write('/streams/trickle', trickle())).size, 20, 'two seconds of small steps is no stall');
  async function* stalls() { yield Buffer.from('a'); await sleep(4000); yield Buffer.from('b'); }
  await assert.rejects(slow.files.write('/streams/stalled', stalls()), (err: Error) => err instanceof TimeoutError && /no byte moved for 1000 ms/.test(err.message));

  // A download whose server stops sending after its first bytes.
  const api = await fakeGuest((_req, res) => { res.writeHead(200, { 'Content-Type': 'application/octet-stream' }); res.write('first bytes'); });
  try {
    const body = await clientOf(api.url, 1000).download('/v1/sandboxes/x/files');
    await assert.rejects(new Response(body).arrayBuffer(), (err: Error) => err instanceof TimeoutError && /GET .*no byte moved for 1000 ms/.test(err.message));
  } finally {
    await api.close();
  }
});

test('a download whose connection breaks fails as unavailable, an error of the SDK', async () => {
  const api = await fakeGuest((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 10 * MiB });
    res.write(Buffer.alloc(MiB), () => res.destroy());
  });
  try {
    const body = await clientOf(api.url, 60_000).download('/v1/sandboxes/x/files');
    await assert.rejects(new Response(body).arrayBuffer(), (err: Error) => err instanceof UnavailableError && /GET .*the transfer broke off/.test(err.message));
  } finally {
    await api.close();
  }
});

test('a gigabyte each way passes through the client without being held', { timeout: 300_000 }, async () => {
  const total = 1024 * MiB;
  let received = 0;
  const api = await fakeGuest((req, res) => {
    if (req.method === 'GET') { res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total }); flood(res, total); return; }
    req.on('data', (c: Buffer) => { received += c.length; });
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ size: received })));
  });
  const client = clientOf(api.url, 60_000);
  // Fresh chunks, as a file's reads are: a client that kept them would grow by each one.
  async function* upload() { for (let sent = 0; sent < total; sent += MiB) yield Buffer.alloc(MiB, 0x62); }
  const base = process.memoryUsage().rss;
  let grown = 0;
  const timer = setInterval(() => { grown = Math.max(grown, process.memoryUsage().rss - base); }, 20);
  let downloaded = 0;
  try {
    assert.deepEqual(await client.upload('PUT', '/v1/sandboxes/x/files', upload()), { size: total });
    const upGrowth = grown;
    for await (const part of await client.download('/v1/sandboxes/x/files')) downloaded += part.byteLength;
    // Streamed, the client holds a few chunks at a time; held, it grows by the whole file.
    assert.ok(upGrowth < 256 * MiB, `the client's memory grew by ${Math.round(upGrowth / MiB)} MiB during a ${total / MiB} MiB upload`);
    assert.ok(grown < 256 * MiB, `the client's memory grew by ${Math.round(grown / MiB)} MiB during a ${total / MiB} MiB download`);
  } finally {
    clearInterval(timer);
    await api.close();
  }
  assert.equal(received, total);
  assert.equal(downloaded, total);
});
