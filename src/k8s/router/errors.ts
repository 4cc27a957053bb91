// The one owner of the router's error wire shape: JSON {"detail": …} as upstream's router.
import type http from 'node:http';
import { AgentboxError, type ErrorCode } from '../../api/errors.ts';

/** The statuses the router answers with, and the AgentboxError code each one means. */
const CODE_OF_STATUS = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  // The sandbox's pod could not be reached: a gateway answers 502 (Bad Gateway) there, where the
  // table in src/api/errors.ts says 503 for `unavailable`; the router keeps answering 502.
  502: 'unavailable',
  504: 'deadline_exceeded',
} as const satisfies Record<number, ErrorCode>;

export type RouterStatus = keyof typeof CODE_OF_STATUS;

/** An AgentboxError that keeps the exact HTTP status the router writes (502 has no code of its own). */
export class RouterError extends AgentboxError {
  constructor(readonly status: RouterStatus, message: string) {
    super(CODE_OF_STATUS[status], message);
    this.name = 'RouterError';
  }

  override get httpStatus(): number {
    return this.status;
  }
}

export function writeError(res: http.ServerResponse, status: number, detail: string): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify({ detail });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
