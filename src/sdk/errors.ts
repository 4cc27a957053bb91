/**
 * The SDK's error family: one base class, one subclass per server error code, chosen in one
 * table (docs/architecture.md, rule “errors are translated at the edges”). Catch `AgentboxSdkError` to catch everything the SDK throws.
 *
 * @example
 *   try { await Sandbox.connect(id) } catch (e) { if (e instanceof NotFoundError) … }
 */
export class AgentboxSdkError extends Error {
  /** The server's machine-readable code (see src/api/errors.ts), or a client-side one. */
  readonly code: string;
  readonly status?: number;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, opts: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.details) this.details = opts.details;
  }
}

/** The key is missing, unknown or revoked. */
export class AuthenticationError extends AgentboxSdkError {}
/** The key may not do this (admin routes). */
export class PermissionError extends AgentboxSdkError {}
/** A sandbox, template, file, key or pool does not exist (or belongs to another tenant). */
export class NotFoundError extends AgentboxSdkError {}
/**
 * The sandbox expired (its timeout ran out) or was killed; `details` holds `reason` ('expired' or
 * 'killed') and `endedAt`. A NotFoundError too, so code that catches that keeps working.
 */
export class SandboxEndedError extends NotFoundError {
  get reason(): string | undefined { return this.details?.reason as string | undefined; }
  get endedAt(): Date | undefined { return typeof this.details?.endedAt === 'string' ? new Date(this.details.endedAt) : undefined; }
}
/** The input was wrong; the message says what to change. */
export class InvalidArgumentError extends AgentboxSdkError {}
/** The resource is in a state that does not allow this (e.g. exec on a paused sandbox). */
export class ConflictError extends AgentboxSdkError {}
/** A limit was hit; retry later. */
export class RateLimitError extends AgentboxSdkError {}
/** A deadline passed (a command's `timeoutMs`). */
export class TimeoutError extends AgentboxSdkError {}
/** The server or the sandbox is not ready; retry soon. */
export class UnavailableError extends AgentboxSdkError {}
/** The host or runtime cannot do this. */
export class NotSupportedError extends AgentboxSdkError {}

/** A command ended with a non-zero exit code; `result` holds its output. */
export class CommandExitError extends AgentboxSdkError {
  constructor(readonly result: { exitCode: number; stdout: string; stderr: string; error?: string }) {
    super('command_exit', `command exited with code ${result.exitCode}${result.error ? `: ${result.error}` : ''}`);
  }
  get exitCode(): number { return this.result.exitCode; }
  get stdout(): string { return this.result.stdout; }
  get stderr(): string { return this.result.stderr; }
}

const BY_CODE: Record<string, typeof AgentboxSdkError> = {
  unauthenticated: AuthenticationError,
  permission_denied: PermissionError,
  not_found: NotFoundError,
  sandbox_ended: SandboxEndedError,
  invalid_argument: InvalidArgumentError,
  conflict: ConflictError,
  already_exists: ConflictError,
  resource_exhausted: RateLimitError,
  quota_exceeded: RateLimitError,
  deadline_exceeded: TimeoutError,
  unavailable: UnavailableError,
  not_supported: NotSupportedError,
};

/** The one place a wire error becomes a typed error. */
export function errorFromBody(status: number, body: { code?: unknown; message?: unknown; details?: unknown } | undefined): AgentboxSdkError {
  const code = typeof body?.code === 'string' ? body.code : `http_${status}`;
  const message = typeof body?.message === 'string' ? body.message : `the server answered ${status}`;
  const Cls = BY_CODE[code] ?? AgentboxSdkError;
  const opts: { status: number; details?: Record<string, unknown> } = { status };
  if (body?.details && typeof body.details === 'object') opts.details = body.details as Record<string, unknown>;
  return new Cls(code, message, opts);
}
