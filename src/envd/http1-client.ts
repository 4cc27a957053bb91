/**
 * The HTTP/1.1 client under the host's Connect transport to the guest (client.ts).
 *
 * connect-node's own client sends a request's headers at once (`flushHeaders`), then each body
 * message as a chunk, then the last chunk once that write is done: three packets for a call
 * whose body is one message. Inside gVisor each packet is work for the sentry's network stack
 * and a wake-up of the guest, and the guest can only start the call after the last one. This
 * client sends a body that is already complete when the call starts (every unary and
 * server-streaming call) with a Content-Length, headers and body in one write. A body that is
 * still being produced (client streaming) goes out chunked.
 *
 * @example
 *   const transport = createTransport({ httpClient: createHttp1Client(new Agent({ keepAlive: true })), … });
 */
import { request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Code, ConnectError } from '@connectrpc/connect';
import type { UniversalClientFn, UniversalClientRequest, UniversalClientResponse } from '@connectrpc/connect/protocol';

/** What the body gave before it had to wait: all of it, or the start and the rest to stream. */
type BodyStart =
  | { whole: true; chunks: Uint8Array[] }
  | { whole: false; chunks: Uint8Array[]; rest: AsyncIterator<Uint8Array>; next: Promise<IteratorResult<Uint8Array>> };

/**
 * Reads the body until it ends or until a read would outlast the current turn of the event loop.
 * A body made from messages already in hand ends within the turn (promise jobs only); one that
 * waits for the caller's next message does not.
 */
async function readWithinTurn(body: AsyncIterable<Uint8Array>): Promise<BodyStart> {
  const rest = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let immediate: NodeJS.Immediate | undefined;
  const turnOver = new Promise<undefined>((resolve) => { immediate = setImmediate(resolve, undefined); });
  try {
    for (;;) {
      const next = rest.next();
      const read = await Promise.race([next, turnOver]);
      if (read === undefined) return { whole: false, chunks, rest, next };
      if (read.done) return { whole: true, chunks };
      chunks.push(read.value);
    }
  } finally {
    clearImmediate(immediate);
  }
}

function nodeHeaders(header: Headers, contentLength?: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = Object.fromEntries(header.entries());
  if (contentLength !== undefined) out['content-length'] = contentLength;
  return out;
}

function webHeaders(header: IncomingHttpHeaders | NodeJS.Dict<string>): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(header)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  return out;
}

/** Connection failures by their Node code, read as connect-node reads them, so callers see the same Connect codes. */
const CODE_OF_NODE_ERROR: Record<string, Code> = {
  ERR_STREAM_WRITE_AFTER_END: Code.Aborted,
  ERR_STREAM_DESTROYED: Code.Aborted,
  ECONNRESET: Code.Aborted,
  ETIMEDOUT: Code.Unavailable,
  ENOTFOUND: Code.Unavailable,
  EAI_AGAIN: Code.Unavailable,
  ECONNREFUSED: Code.Unavailable,
};

function connectErrorOf(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const nodeCode = (reason as { code?: unknown } | undefined)?.code;
  const code = typeof nodeCode === 'string' ? CODE_OF_NODE_ERROR[nodeCode] : undefined;
  const err = ConnectError.from(reason, code ?? Code.Internal);
  if (err !== reason) err.cause = reason;
  return err;
}

/** The response body; an abort ends it with the abort's reason rather than the socket's `aborted`. */
async function* responseBody(res: IncomingMessage, signal: AbortSignal, trailer: Headers): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Uint8Array;
  } catch (err) {
    throw connectErrorOf(signal.aborted ? signal.reason : err);
  }
  for (const [name, value] of webHeaders(res.trailers)) trailer.set(name, value);
}

/** Writes the rest of a streamed body, each chunk after the previous one left, then ends the request. */
async function streamRest(req: ReturnType<typeof request>, start: Extract<BodyStart, { whole: false }>): Promise<void> {
  const write = (chunk: Uint8Array) => new Promise<void>((resolve, reject) => req.write(chunk, (err) => (err ? reject(err) : resolve())));
  for (const chunk of start.chunks) await write(chunk);
  for (let read = await start.next; !read.done; read = await start.rest.next()) await write(read.value);
  await new Promise<void>((resolve) => req.end(resolve));
}

/** A UniversalClientFn for @connectrpc/connect's `createTransport`, on the given keep-alive agent. */
export function createHttp1Client(agent: Agent): UniversalClientFn {
  return async function http1Call(call: UniversalClientRequest): Promise<UniversalClientResponse> {
    const signal = call.signal ?? new AbortController().signal;
    if (signal.aborted) throw connectErrorOf(signal.reason);
    let start: BodyStart;
    try {
      start = call.body ? await readWithinTurn(call.body) : { whole: true, chunks: [] };
    } catch (err) {
      throw connectErrorOf(err);
    }
    const whole = start.whole ? Buffer.concat(start.chunks) : undefined;
    const req = request(call.url, { method: call.method, agent, headers: nodeHeaders(call.header, whole?.length) });
    const onAbort = () => req.destroy(connectErrorOf(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal.removeEventListener('abort', onAbort));
    // An abort while the body was read has already fired: the listener above never will.
    if (signal.aborted) onAbort();
    return new Promise<UniversalClientResponse>((resolve, reject) => {
      req.on('error', (err) => reject(connectErrorOf(signal.aborted ? signal.reason : err)));
      req.once('response', (res) => {
        // Its reader gets any error through the iterator; this keeps a body nobody reads from
        // turning a reset connection into an uncaught 'error'.
        res.on('error', () => {});
        const trailer = new Headers();
        resolve({ status: res.statusCode ?? 0, header: webHeaders(res.headers), body: responseBody(res, signal, trailer), trailer });
      });
      if (start.whole) req.end(whole);
      else streamRest(req, start).catch((err: unknown) => req.destroy(connectErrorOf(err)));
    });
  };
}
