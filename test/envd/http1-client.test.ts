// The host's HTTP/1.1 Connect client (src/envd/http1-client.ts) against a real connect-node
// server on loopback: how requests go on the wire, streaming both ways, and how failures read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { createTransport } from '@connectrpc/connect/protocol-connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Process, type StreamInputRequest, type StreamInputRequestSchema } from '../../src/guest/gen/process_pb.ts';
import { createHttp1Client } from '../../src/envd/http1-client.ts';

/** What the server saw of each request: its headers and the raw bytes of its first read. */
const seen: { headers: IncomingHttpHeaders }[] = [];
const firstReads: Buffer[] = [];
/** Resolves when the client-streaming handler has read its first message. */
let firstInputRead: () => void = () => {};
let server: Server;
let url: string;
const agent = new Agent({ keepAlive: true });

function client(baseUrl = url) {
  const transport = createTransport({
    baseUrl, httpClient: createHttp1Client(agent), useBinaryFormat: true, interceptors: [],
    acceptCompression: [], sendCompression: null, compressMinBytes: Number.MAX_SAFE_INTEGER,
    readMaxBytes: 1 << 20, writeMaxBytes: 1 << 20,
  });
  return createClient(Process, transport);
}

before(async () => {
  const handler = connectNodeAdapter({
    routes: (router) => router.service(Process, {
      list: () => ({ processes: [{ pid: 7, tag: 'seven' }] }),
      async *start(req, ctx) {
        yield { event: { event: { case: 'start', value: { pid: 1 } } } };
        if (req.process?.cmd === 'hang') {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          return;
        }
        yield { event: { event: { case: 'data', value: { output: { case: 'stdout', value: Buffer.from(req.process?.args.join(' ') ?? '') } } } } };
        yield { event: { event: { case: 'end', value: { exitCode: 0, exited: true, status: 'exit status 0' } } } };
      },
      async streamInput(requests: AsyncIterable<StreamInputRequest>) {
        let n = 0;
        for await (const r of requests) {
          if (r.event.case === 'data' && ++n === 1) firstInputRead();
        }
        return {};
      },
    }),
  });
  server = createServer((req, res) => {
    seen.push({ headers: req.headers });
    if (req.url?.endsWith('/Start') && req.headers['x-reset'] === '1') {
      // Answer the headers and one frame, then cut the connection.
      res.writeHead(200, { 'content-type': 'application/connect+proto' });
      res.write(Buffer.from([0, 0, 0, 0, 0]), () => req.socket.destroy());
      return;
    }
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => socket.once('data', (d: Buffer) => firstReads.push(d)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('a call whose body is complete when it starts', () => {
  test('unary: sent with Content-Length, headers and body in one write on a new connection', async () => {
    seen.length = 0;
    firstReads.length = 0;
    agent.destroy();
    const res = await client().list({});
    assert.deepEqual(res.processes.map((p) => [p.pid, p.tag]), [[7, 'seven']]);
    assert.equal(seen[0]!.headers['transfer-encoding'], undefined);
    assert.equal(seen[0]!.headers['content-length'], '0');
    // The first read of the connection holds the whole request, the end of the headers included.
    assert.match(firstReads[0]!.toString('latin1'), /^POST \/process\.Process\/List HTTP\/1\.1\r\n[\s\S]*\r\n\r\n$/);
  });

  test('server streaming: the request is one message with Content-Length; every event arrives in order', async () => {
    seen.length = 0;
    firstReads.length = 0;
    agent.destroy();
    const events = [];
    for await (const ev of client().start({ process: { cmd: 'echo', args: ['a', 'b'] } })) events.push(ev.event?.event);
    assert.deepEqual(events.map((e) => e?.case), ['start', 'data', 'end']);
    const data = events[1];
    assert.equal(data?.case === 'data' && data.value.output.case === 'stdout' && Buffer.from(data.value.output.value).toString(), 'a b');
    const length = Number(seen[0]!.headers['content-length']);
    assert.equal(seen[0]!.headers['transfer-encoding'], undefined);
    assert.ok(length > 5, `an enveloped message, got content-length ${length}`);
    const request = firstReads[0]!;
    assert.equal(request.length - request.indexOf('\r\n\r\n') - 4, length, 'the body came in the same read as the headers');
  });

  test('calls reuse the kept-alive connection', async () => {
    agent.destroy();
    firstReads.length = 0;
    for (let i = 0; i < 5; i++) await client().list({});
    assert.equal(firstReads.length, 1);
  });
});

describe('a body still being produced', () => {
  test('client streaming goes out chunked, and the server reads a message before the client ends', async () => {
    seen.length = 0;
    const firstRead = new Promise<void>((resolve) => { firstInputRead = resolve; });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => { release = resolve; });
    async function* input(): AsyncGenerator<MessageInitShape<typeof StreamInputRequestSchema>> {
      yield { event: { case: 'start', value: { process: { selector: { case: 'pid', value: 1 } } } } };
      yield { event: { case: 'data', value: { input: { input: { case: 'stdin', value: Buffer.from('x') } } } } };
      await held;
    }
    const call = client().streamInput(input());
    await firstRead;
    release();
    await call;
    assert.equal(seen[0]!.headers['transfer-encoding'], 'chunked');
  });
});

describe('failures read as connect-node reads them', () => {
  test('a refused connection is Unavailable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(client(`http://127.0.0.1:${port}`).list({}), (e: unknown) => e instanceof ConnectError && e.code === Code.Unavailable);
  });

  test('a connection cut mid-stream is Aborted', async () => {
    const events: unknown[] = [];
    await assert.rejects(async () => {
      for await (const ev of client().start({ process: { cmd: 'x' } }, { headers: { 'x-reset': '1' } })) events.push(ev);
    }, (e: unknown) => e instanceof ConnectError && e.code === Code.Aborted);
    assert.equal(events.length, 1);
  });

  test('a deadline ends a stream that is still open with DeadlineExceeded', async () => {
    const events: unknown[] = [];
    await assert.rejects(async () => {
      for await (const ev of client().start({ process: { cmd: 'hang' } }, { timeoutMs: 200 })) events.push(ev);
    }, (e: unknown) => e instanceof ConnectError && e.code === Code.DeadlineExceeded);
    assert.equal(events.length, 1);
  });

  test("the caller's abort ends the stream with Canceled", async () => {
    const abort = new AbortController();
    await assert.rejects(async () => {
      for await (const _ of client().start({ process: { cmd: 'hang' } }, { signal: abort.signal })) abort.abort();
    }, (e: unknown) => e instanceof ConnectError && e.code === Code.Canceled);
  });
});
