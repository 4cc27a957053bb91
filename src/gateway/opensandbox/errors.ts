/**
 * The one place that owns the wire shape of an OpenSandbox error: `{code, message}` with a
 * namespaced code (OpenSandbox's server, `services/constants.py`), the HTTP status of the
 * agentbox error it translates. The SDKs put `code` into `SandboxApiException.error.code`.
 * Where OpenSandbox's Docker runtime (its single-machine one, like agentbox's) has a code for the
 * case, that code is used, so callers that branch on it keep working.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { asAgentboxError, type AgentboxError, type ErrorCode } from '../../api/errors.ts';
import { endUpgrade, sendJson } from '../respond.ts';

/** What a conflict means depends on the operation: pause wants a running sandbox, resume a paused one. */
export type ConflictMeaning = 'not_running' | 'not_paused' | 'state';

const CONFLICT: Record<ConflictMeaning, string> = {
  not_running: 'DOCKER::SANDBOX_NOT_RUNNING',
  not_paused: 'DOCKER::SANDBOX_NOT_PAUSED',
  state: 'SANDBOX::INVALID_STATE',
};

/** not_found by what was missing (the `details` key of notFound in src/api/errors.ts). */
const NOT_FOUND: Record<string, string> = {
  sandbox: 'DOCKER::SANDBOX_NOT_FOUND',
  template: 'DOCKER::SANDBOX_IMAGE_PULL_FAILED',
  pool: 'KUBERNETES::POOL_NOT_FOUND',
  snapshot: 'SNAPSHOT::NOT_FOUND',
};

const BY_CODE: Partial<Record<ErrorCode, string>> = {
  invalid_argument: 'SANDBOX::INVALID_PARAMETER',
  permission_denied: 'SANDBOX::PERMISSION_DENIED',
  resource_exhausted: 'SANDBOX::RESOURCE_EXHAUSTED',
  quota_exceeded: 'SANDBOX::QUOTA_EXCEEDED',
  deadline_exceeded: 'SANDBOX::TIMEOUT',
  unavailable: 'SANDBOX::PROXY_UNREACHABLE',
  not_supported: 'SANDBOX::API_NOT_SUPPORTED',
};

function codeOf(e: AgentboxError, conflict: ConflictMeaning): string {
  // OpenSandbox has no code for a sandbox that ended: its clients see the not-found they expect.
  if (e.code === 'not_found' || e.code === 'sandbox_ended') {
    const what = Object.keys(e.details ?? {}).find((k) => k in NOT_FOUND);
    return what ? NOT_FOUND[what]! : 'SANDBOX::NOT_FOUND';
  }
  if (e.code === 'conflict' || e.code === 'already_exists') return CONFLICT[conflict];
  if (e.code === 'unauthenticated') return e.details?.missingKey ? 'MISSING_API_KEY' : 'INVALID_API_KEY';
  return BY_CODE[e.code] ?? 'SANDBOX::UNKNOWN_ERROR';
}

/**
 * A proxied port that did not answer is a bad gateway to OpenSandbox's clients, not "retry
 * later". An image with no template is the request's fault (400): the Python SDK parses error
 * bodies only for the statuses its spec lists for a create (400, 401, 409, 500), so a 404 there
 * would reach its users as UNEXPECTED_RESPONSE.
 */
function statusOf(e: AgentboxError): number {
  if (e.code === 'unavailable') return 502;
  if (e.code === 'sandbox_ended') return 404;
  if (e.code === 'not_found' && e.details?.template !== undefined) return 400;
  return e.httpStatus;
}

export function openSandboxError(err: unknown, conflict: ConflictMeaning = 'state'): { status: number; body: { code: string; message: string } } {
  const e = asAgentboxError(err);
  return { status: statusOf(e), body: { code: codeOf(e, conflict), message: e.message } };
}

export function sendOpenSandboxError(res: ServerResponse, err: unknown, conflict?: ConflictMeaning): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body } = openSandboxError(err, conflict);
  sendJson(res, status, body);
}

export function endOpenSandboxUpgrade(socket: Duplex, err: unknown): void {
  const { status, body } = openSandboxError(err);
  endUpgrade(socket, status, 'OpenSandbox', body);
}
