/** The one place that writes envd's REST error body `{message, code}` (code = HTTP status). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentboxError, asAgentboxError } from '../../api/errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A body-less answer that says so: `Content-Length: 0`, which generated clients (openapi-fetch in
 * OpenSandbox's SDKs) need to skip parsing; without it they try to read JSON from nothing.
 */
export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { 'Content-Length': 0 }).end();
}

/** `statusOverride` maps an error code to a route-specific status (e.g. 507 for a full disk on upload). */
export function sendError(res: ServerResponse, err: unknown, statusOverride?: Partial<Record<string, number>>): void {
  const e = asAgentboxError(err);
  const status = statusOverride?.[e.code] ?? e.httpStatus;
  if (res.headersSent) {
    res.destroy(e);
    return;
  }
  sendJson(res, status, { code: status, message: e.message });
}

/** Reads a small JSON request body (POST /init), capped so a stray client cannot exhaust memory. */
export async function readJsonBody(req: IncomingMessage, maxBytes = 1 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new AgentboxError('invalid_argument', `request body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}
