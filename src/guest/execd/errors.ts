/**
 * execd's error edge (docs/architecture.md, rule “errors are translated at the edges”): handlers
 * throw AgentboxError; this table turns its code into the HTTP status and the `{code, message}`
 * body of OpenSandbox's execd. A handler that needs a more specific execd code (FILE_NOT_FOUND,
 * CONTEXT_NOT_FOUND, MISSING_QUERY…) makes its error with `execdError`.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentboxError, asAgentboxError, type ErrorCode } from '../../api/errors.ts';
import type { ExecdErrorCode } from '../../api/opensandbox-execd.ts';
import { sendJson } from '../http/respond.ts';

const EXECD_CODE_OF: Record<ErrorCode, ExecdErrorCode> = {
  invalid_argument: 'INVALID_REQUEST_BODY',
  not_found: 'FILE_NOT_FOUND',
  sandbox_ended: 'RUNTIME_ERROR',
  already_exists: 'RUNTIME_ERROR',
  conflict: 'RUNTIME_ERROR',
  unauthenticated: 'UNAUTHORIZED',
  permission_denied: 'RUNTIME_ERROR',
  resource_exhausted: 'RUNTIME_ERROR',
  quota_exceeded: 'RUNTIME_ERROR',
  deadline_exceeded: 'RUNTIME_ERROR',
  unavailable: 'RUNTIME_ERROR',
  integrity_error: 'RUNTIME_ERROR',
  not_supported: 'NOT_SUPPORTED',
  internal: 'RUNTIME_ERROR',
};

/** An AgentboxError that leaves execd with `execdCode` instead of the table's. */
export function execdError(code: ErrorCode, execdCode: ExecdErrorCode, message: string, cause?: unknown): AgentboxError {
  return new AgentboxError(code, message, { cause, details: { execdCode } });
}

/** The HTTP status and `{code, message}` body execd answers `err` with. */
function execdErrorResponse(err: unknown): { status: number; body: { code: ExecdErrorCode; message: string } } {
  const e = asAgentboxError(err);
  const code = (e.details?.execdCode as ExecdErrorCode | undefined) ?? EXECD_CODE_OF[e.code];
  return { status: e.httpStatus, body: { code, message: e.message } };
}

/** The one writer of execd's error body. After the stream began, the connection is cut instead. */
export function sendExecdError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body } = execdErrorResponse(err);
  sendJson(res, status, body);
}

/** The same answer to a WebSocket upgrade that is refused: written on the raw socket, which then closes. */
export function refuseUpgrade(socket: Duplex, err: unknown): void {
  const { status, body } = execdErrorResponse(err);
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}
