/**
 * The guest's servers send what a response writes in one turn of the event loop in one write to
 * the socket (src/guest/http/writes-per-turn.ts), hold nothing past that turn, and still hold a stream
 * its client does not read back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createStreamingServer } from '../../src/guest/http/writes-per-turn.ts';

const FRAME = Buffer.alloc(32 * 1024, 0x61);

/** Counts the writes `socket` hands to the kernel (net.Socket's Writable implementation). */
function countSocketWrites(socket: Socket): () => number {
  let writes = 0;
  const s = socket as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = s._write;
  const writev = s._writev;
  s._write = function (...a) { writes++; return write.apply(this, a); };
  s._writev = function (...a) { writes++; return writev.apply(this, a); };
  return () => writes;
}

let server: Server;
let port: number;
const routes = new Map<string, (res: ServerResponse) => void>();

before(async () => {
  server = createStreamingServer(60_000, (req, res) => routes.get(req.url ?? '')!(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
}));

/** GET `path`; `onChunk` sees each piece of the body as it arrives; resolves with the whole body. */
function get(path: string, onChunk: (body: string) => void = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => { body += c; onChunk(body); });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

/**
 * `count` loopback connections with `bytes` each already sent and waiting, paused: once resumed
 * together, one poll of the event loop finds them all readable, and their reads come as separate
 * callbacks of one turn, as a command's stdout reads do.
 */
async function waitingSources(count: number, bytes: number): Promise<{ sources: Socket[]; close(): void }> {
  const sources: Socket[] = [];
  const senders: Socket[] = [];
  const listener = createNetServer({ pauseOnConnect: true }, (s) => sources.push(s));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port: sourcePort } = listener.address() as AddressInfo;
  for (let i = 0; i < count; i++) {
    const sender = connect(sourcePort, '127.0.0.1');
    senders.push(sender);
    await new Promise<void>((resolve) => sender.write(Buffer.alloc(bytes, 0x61 + i), () => resolve()));
  }
  while (sources.length < count) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  return { sources, close: () => { for (const s of [...sources, ...senders]) s.destroy(); listener.close(); } };
}

test("frames made from several reads of one turn leave in one write to the socket, as a command's output does", async () => {
  const { sources, close } = await waitingSources(4, FRAME.length);
  let writes = () => -1;
  routes.set('/reads', (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.flushHeaders();
    // The headers go out in a turn of their own; the frames come in a later one.
    setImmediate(() => {
      writes = countSocketWrites(res.socket!);
      let left = sources.length * FRAME.length;
      for (const source of sources) {
        source.on('data', (chunk: Buffer) => {
          res.write(chunk);
          left -= chunk.length;
          if (left === 0) setImmediate(() => res.end());
        });
        source.resume();
      }
    });
  });
  try {
    const body = await get('/reads');
    assert.equal(body.length, 4 * FRAME.length);
    // Node alone uncorks after each callback: a write per read, 5 in all.
    assert.equal(writes(), 2, 'the 4 frames of one turn went out in one write, the end in another');
  } finally {
    close();
  }
});

test('a stream its client does not read is still held back: its writer is told to wait within a few MiB', async () => {
  let buffered = 0;
  let waited!: () => void;
  const told = new Promise<void>((resolve) => { waited = resolve; });
  routes.set('/unread', (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const more = () => {
      while (buffered < 256 * 1024 * 1024) {
        buffered += FRAME.length;
        if (!res.write(FRAME)) break;
      }
      waited();
    };
    setImmediate(more);
  });
  const req = request({ host: '127.0.0.1', port, path: '/unread' }, (res) => res.pause());
  // The test ends the request itself, unread: its hang-up is expected.
  req.on('error', () => {});
  req.end();
  try {
    await told;
    assert.ok(buffered <= 4 * 1024 * 1024, `the writer was told to wait only after ${buffered} bytes`);
  } finally {
    req.destroy();
  }
});

test('a frame is not held past its turn: the client reads it while the stream waits for it to', async () => {
  let clientRead!: () => void;
  const read = new Promise<void>((resolve) => { clientRead = resolve; });
  routes.set('/ping', (res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first;');
    // The stream goes on only once the client has the first frame: a frame held until the next
    // write or the end would never arrive, and the request would time out below.
    void read.then(() => res.end('second'));
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the first frame was held: the client never read it')), 5000).unref());
  const body = await Promise.race([get('/ping', (b) => { if (b.includes('first;')) clientRead(); }), timeout]);
  assert.equal(body, 'first;second');
});
