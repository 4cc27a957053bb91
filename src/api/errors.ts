/**
 * The one error family of agentbox. Every failure that crosses a module boundary is an
 * AgentboxError (or a subclass) carrying a machine-readable `code` and the HTTP status the
 * gateway answers with, so façades translate errors once, by table, at the edge.
 *
 * Codes are part of the public API: never rename one once published.
 */
export type ErrorCode =
  | 'invalid_argument'      // the caller's input is wrong; the message says what to change
  | 'not_found'             // the named sandbox, template, snapshot, key or file does not exist
  | 'sandbox_ended'         // the sandbox existed and ended; details: {sandbox, reason: 'expired'|'killed', endedAt}
  | 'already_exists'
  | 'conflict'              // the resource is in a state that does not allow the operation
  | 'unauthenticated'
  | 'permission_denied'
  | 'resource_exhausted'    // a limit (pool, disk, memory, rate) was hit; retry later or raise it
  | 'quota_exceeded'        // a tenant limit of the server policy; details: {limit, used, requested, max}
  | 'deadline_exceeded'
  | 'unavailable'           // a dependency (runtime, guest) is not ready; retry soon
  | 'integrity_error'       // a checksum or manifest did not match: an asset or snapshot was refused
  | 'not_supported'         // this host or runtime class cannot do it; the message says what can
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  sandbox_ended: 410,
  already_exists: 409,
  conflict: 409,
  unauthenticated: 401,
  permission_denied: 403,
  resource_exhausted: 429,
  quota_exceeded: 429,
  deadline_exceeded: 504,
  unavailable: 503,
  integrity_error: 422,
  not_supported: 501,
  internal: 500,
};

export class AgentboxError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts for the caller (a missing name, a retry delay...). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentboxError';
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export const notFound = (what: string, name: string) =>
  new AgentboxError('not_found', `${what} '${name}' does not exist`, { details: { [what]: name } });

/** Why a sandbox ended: its timeout ran out (onTimeout kill), or a kill call. */
export type EndReason = 'expired' | 'killed';

/** A call on a sandbox that ended: what happened and when (`endedAt` in ISO 8601). */
export const sandboxEnded = (id: string, reason: EndReason, endedAt: string) =>
  new AgentboxError('sandbox_ended', `sandbox '${id}' ${reason === 'expired' ? 'expired (its timeout ran out)' : 'was killed'} at ${endedAt}; create a new one`, {
    details: { sandbox: id, reason, endedAt },
  });

export const invalidArgument = (message: string, details?: Record<string, unknown>) =>
  new AgentboxError('invalid_argument', message, { details });

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AgentboxError('conflict', message, { details });

/** Wraps anything thrown into an AgentboxError without hiding the original as `cause`. */
export function asAgentboxError(err: unknown): AgentboxError {
  if (err instanceof AgentboxError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AgentboxError('internal', message, { cause: err });
}
