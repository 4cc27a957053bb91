/** Request bodies with a size cap, so one client cannot make the server buffer without bound. */
import type { IncomingMessage } from 'node:http';
import { AgentboxError } from '../api/errors.ts';

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of limitedBody(req, maxBytes)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * The request body as a stream of chunks that fails with a clear error once it passes
 * `maxBytes`, so a large upload flows straight through to the sandbox without being held here.
 */
export async function* limitedBody(req: IncomingMessage, maxBytes: number): AsyncGenerator<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    yield chunk;
  }
}

/** A JSON body must be in within this long unless the server was configured otherwise. */
export const JSON_BODY_TIMEOUT_MS = 60_000;

/** The JSON body; a client that has not sent all of it within `timeoutMs` is cut off. */
export async function readJson(req: IncomingMessage, maxBytes: number, timeoutMs = JSON_BODY_TIMEOUT_MS): Promise<unknown> {
  const timer = timeoutMs > 0 ? setTimeout(() => {
    req.destroy(new AgentboxError('deadline_exceeded', `the request body did not arrive within ${timeoutMs} ms`));
  }, timeoutMs) : undefined;
  let buf: Buffer;
  try {
    buf = await readBody(req, maxBytes);
  } finally {
    clearTimeout(timer);
  }
  if (buf.length === 0) return {};
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    throw new AgentboxError('invalid_argument', 'the request body is not valid JSON');
  }
}

function tooLarge(max: number): AgentboxError {
  return new AgentboxError('invalid_argument', `request body larger than ${max} bytes: send less, or write big files in parts`, { details: { maxBytes: max } });
}
