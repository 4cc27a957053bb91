/**
 * The one place that owns the wire shape of an E2B error (E2B's published spec, github.com/e2b-dev/E2B `spec/`):
 * `{code: <HTTP status>, message}` for the control API, and the proxy's 502
 * `{sandboxId, message, code}` when a sandbox cannot be reached. The JS SDK reads the body's
 * `code` (kill → false on 404, pause → false on 409), so it always mirrors the status.
 */
import type { ServerResponse } from 'node:http';
import { asAgentboxError, type AgentboxError } from '../../api/errors.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/**
 * The E2B status of an error. A sandbox that ended is 404 to E2B's clients, as on E2B: the SDKs
 * read 404 (kill → false, connect → NotFoundError), and the message still says when it ended.
 */
export function e2bStatus(err: AgentboxError): number {
  return err.code === 'sandbox_ended' ? 404 : err.httpStatus;
}

export function e2bErrorBody(err: unknown): { code: number; message: string } {
  const e = asAgentboxError(err);
  return { code: e2bStatus(e), message: e.message };
}

export function sendE2bError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = e2bErrorBody(err);
  sendJson(res, body.code, body);
}

/** E2B's proxy answer for an unknown, killed or unreachable sandbox: the SDKs read 502 as "timed out or killed". */
export function sandboxGoneBody(id: string, why?: string): { sandboxId: string; message: string; code: 502 } {
  return { sandboxId: id, message: why ? `The sandbox was not found: ${why}` : 'The sandbox was not found', code: 502 };
}

export function sendSandboxGone(res: ServerResponse, id: string, why?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, 502, sandboxGoneBody(id, why));
}
