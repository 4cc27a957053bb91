/**
 * The facts of OpenSandbox's in-sandbox execution API ("execd", upstream spec
 * `specs/execd-api.yaml` of github.com/opensandbox-group/OpenSandbox) that the guest serving it and
 * every host-side caller share. Pure data, no imports, so the guest bundle gains nothing from it.
 */

/** execd's TCP port in every sandbox, as OpenSandbox's SDKs assume (`DEFAULT_EXECD_PORT`). */
export const EXECD_PORT = 44772;

/** The sandbox env file every execd command starts with, where upstream's execd keeps it. */
export const EXECD_ENV_FILE = '/opt/opensandbox/.env';

/** Carries the sandbox's access token on every execd call but /ping. */
export const EXECD_TOKEN_HEADER = 'x-execd-access-token';

/** Next read position of a background command's log (`GET /command/{id}/logs`). */
export const EXECD_TAIL_CURSOR_HEADER = 'execd-commands-tail-cursor';

/** The `code` of execd's `{code, message}` error body. */
export type ExecdErrorCode =
  | 'INVALID_REQUEST_BODY' | 'MISSING_QUERY' | 'RUNTIME_ERROR' | 'INVALID_FILE' | 'INVALID_FILE_CONTENT'
  | 'INVALID_FILE_METADATA' | 'FILE_NOT_FOUND' | 'CONTEXT_NOT_FOUND' | 'NOT_SUPPORTED' | 'UNAUTHORIZED' | 'UNKNOWN';

/** One frame of a streamed execution (`text/event-stream`, one JSON object per line). */
export interface ExecdEvent {
  type: 'init' | 'status' | 'stdout' | 'stderr' | 'result' | 'execution_count' | 'execution_complete' | 'error' | 'ping';
  text?: string;
  execution_count?: number;
  execution_time?: number;
  timestamp: number;
  results?: Record<string, unknown>;
  error?: { ename: string; evalue: string; traceback: string[] };
}

/** A path's description in /files/info, /files/search and /directories/list. */
export interface ExecdFileInfo {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  modified_at: string;
  created_at: string;
  owner: string;
  group: string;
  /** Permission bits as octal digits read as a decimal number: 0644 is 644. */
  mode: number;
}
