/**
 * The facts of the envd protocol that both of its ends share: the in-sandbox daemon (src/guest)
 * and every host-side caller (src/envd's client, the server's port route, the operator, the SDK).
 *
 * They sit here, on the ground floor, and not in src/envd/: the daemon must not import host-side
 * code, and src/envd imports the daemon's generated stubs, so a `guest → envd` arrow would close
 * a circle between the two folders. Pure data with no imports but errors.ts, so the guest bundle
 * gains nothing from it. Connect codes are spelled as on the wire (snake_case, Connect protocol
 * spec "Error Codes"); `codeFromString` of `@connectrpc/connect/protocol-connect` turns them into
 * the library's `Code`.
 */
import type { ErrorCode } from './errors.ts';

/** The daemon's TCP port in every sandbox, as in envd. */
export const GUEST_PORT = 49983;

/** Carries the sandbox's access token on every call but /health, signed /files URLs and /init. */
export const ACCESS_TOKEN_HEADER = 'x-access-token';

/** Guards POST /init, the engine's channel to re-key a forked or restored sandbox. */
export const INIT_SECRET_HEADER = 'x-agentbox-init-secret';

/**
 * agentbox's own GET /start-command (envd has none), with the access token: how the template's
 * start command stands. The engine asks while it waits for the ready check, so a start command
 * that ended with an error fails its sandbox's start at once, with its output.
 */
export const START_COMMAND_PATH = '/start-command';

export interface StartCommandStatus {
  /** `launching` until the process exists; `failed`: it could not be started (`error` says why). */
  state: 'launching' | 'running' | 'ended' | 'failed';
  /** Set once `ended`: envd's end event, an exit code or (not `exited`) the signal in `status`. */
  end?: { exitCode: number; exited: boolean; status: string };
  error?: string;
  /** Its last lines of stdout and stderr, in the order they came. */
  output: string[];
}

/**
 * agentbox's own GET /heap-settled (envd has none), with the access token and `timeoutMs` (at
 * most HEAP_SETTLED_MAX_WAIT_MS): answers once the guest's V8 has finished giving memory back
 * after its start (src/guest/heap-settle.ts), or when `timeoutMs` has passed. A golden snapshot's
 * builder waits for it before its checkpoint, so no copy starts with that work still pending.
 */
export const HEAP_SETTLED_PATH = '/heap-settled';
export const HEAP_SETTLED_MAX_WAIT_MS = 60_000;

export interface HeapSettledStatus {
  /** V8's memory reducer has run and has nothing more pending. */
  settled: boolean;
  /** The memory reducer's collections since the guest started. */
  reducerCollections: number;
  /** Since the last of them ended; absent before the first. */
  msSinceReducerCollection?: number;
}

/** Chooses the OS user of one call: Basic auth with the user name and an empty password, as in envd. */
export function userHeader(user: string | undefined): Record<string, string> {
  return user ? { authorization: `Basic ${Buffer.from(`${user}:`).toString('base64')}` } : {};
}

export type ConnectCodeName =
  | 'canceled' | 'unknown' | 'invalid_argument' | 'deadline_exceeded' | 'not_found' | 'already_exists'
  | 'permission_denied' | 'resource_exhausted' | 'failed_precondition' | 'aborted' | 'out_of_range'
  | 'unimplemented' | 'internal' | 'unavailable' | 'data_loss' | 'unauthenticated';

/** How the daemon reports each of our codes over Connect (the server edge, docs/architecture.md, rule “errors are translated at the edges”). */
export const CONNECT_CODE_OF: Record<ErrorCode, ConnectCodeName> = {
  invalid_argument: 'invalid_argument',
  not_found: 'not_found',
  sandbox_ended: 'not_found',
  already_exists: 'already_exists',
  conflict: 'failed_precondition',
  unauthenticated: 'unauthenticated',
  permission_denied: 'permission_denied',
  resource_exhausted: 'resource_exhausted',
  quota_exceeded: 'resource_exhausted',
  deadline_exceeded: 'deadline_exceeded',
  unavailable: 'unavailable',
  integrity_error: 'data_loss',
  not_supported: 'unimplemented',
  internal: 'internal',
};

/**
 * How a host-side caller reads a Connect code back. Not quite the inverse: `resource_exhausted`
 * reads as itself (a tenant quota is the server's, never the guest's), a call the caller
 * cancelled reads as its deadline, and the codes left out (internal, unknown…) take the caller's
 * fallback, because what it means depends on who asked.
 */
export const ERROR_CODE_OF_CONNECT: Partial<Record<string, ErrorCode>> = {
  invalid_argument: 'invalid_argument',
  not_found: 'not_found',
  already_exists: 'already_exists',
  failed_precondition: 'conflict',
  unauthenticated: 'unauthenticated',
  permission_denied: 'permission_denied',
  resource_exhausted: 'resource_exhausted',
  deadline_exceeded: 'deadline_exceeded',
  canceled: 'deadline_exceeded',
  unavailable: 'unavailable',
  unimplemented: 'not_supported',
  data_loss: 'integrity_error',
};

/**
 * The daemon's REST routes (/files) answer errors with an HTTP status (AgentboxError.httpStatus,
 * 507 for a full disk on upload) and envd's `{code: status, message}` body: the status read back.
 */
export const ERROR_CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'already_exists',
  507: 'resource_exhausted',
};

/**
 * How envd words a signal in a process's end status ("signal: killed"): Go's texts for them. The
 * guest writes them, naming any other signal as itself ("signal: SIGXCPU"); a host reads the
 * signal back (the CLI exits 128 + its number, as a shell does).
 */
export const SIGNAL_TEXT: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed', SIGTERM: 'terminated', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGQUIT: 'quit',
  SIGABRT: 'aborted', SIGSEGV: 'segmentation fault', SIGPIPE: 'broken pipe', SIGALRM: 'alarm clock',
  SIGUSR1: 'user defined signal 1', SIGUSR2: 'user defined signal 2', SIGBUS: 'bus error',
};

/** The signal an end status names, with or without its `signal: ` prefix; undefined when it names none. */
export function signalOfStatus(status: string): NodeJS.Signals | undefined {
  const text = status.replace(/^signal: /, '');
  const named = (Object.keys(SIGNAL_TEXT) as NodeJS.Signals[]).find((sig) => SIGNAL_TEXT[sig] === text);
  return named ?? (/^SIG[A-Z0-9]+$/.test(text) ? text as NodeJS.Signals : undefined);
}
