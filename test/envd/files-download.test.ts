// The host's /files download client (src/envd/files.ts) against a stand-in guest on loopback: a
// plain HTTP server that answers GET /files the way an HTTP server may (a gzip body with the
// compressed length), to check what the client asks for and what length it reports. The real
// guest's answers are covered by test/guest/client.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Filesystem } from '../../src/guest/gen/filesystem_pb.ts';
import { createGuestFiles } from '../../src/envd/files.ts';

const data = Buffer.from('a line of text\n'.repeat(2000));
let asked: IncomingHttpHeaders | undefined;
let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    if (!req.url?.startsWith('/files')) { res.writeHead(404).end(); return; }
    asked = req.headers;
    const body = gzipSync(data);
    res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.close(); });

test('a download asks for the file unencoded and reports no length for an encoded answer, whose length is not what it yields', async () => {
  const filesystem = createClient(Filesystem, createConnectTransport({ baseUrl: base, httpVersion: '1.1' }));
  const files = createGuestFiles(filesystem, base, 'token');
  try {
    const download = await files.download('/x.txt', 1 << 20);
    const chunks: Uint8Array[] = [];
    for await (const chunk of download.body) chunks.push(chunk);
    assert.equal(asked?.['accept-encoding'], 'identity');
    assert.equal(Buffer.concat(chunks).equals(data), true);
    assert.equal(download.size, undefined);
  } finally {
    files.close();
  }
});
