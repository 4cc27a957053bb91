/**
 * Failure translation at the guest's two edges (STYLE #4): handlers throw AgentboxError; the
 * Connect interceptor maps its code to a Connect code, the REST handlers to an HTTP status with
 * envd's `{message, code}` body. Node fs errors become AgentboxError once, here.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { AgentboxError, asAgentboxError, type ErrorCode } from '../api/errors.ts';

const CONNECT_CODE: Record<ErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  conflict: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  quota_exceeded: Code.ResourceExhausted,
  deadline_exceeded: Code.DeadlineExceeded,
  unavailable: Code.Unavailable,
  integrity_error: Code.DataLoss,
  not_supported: Code.Unimplemented,
  internal: Code.Internal,
};

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = asAgentboxError(err);
  return new ConnectError(e.message, CONNECT_CODE[e.code], undefined, undefined, e);
}

const FS_CODE: Record<string, ErrorCode> = {
  ENOENT: 'not_found',
  EEXIST: 'already_exists',
  ENOTEMPTY: 'already_exists',
  ENOTDIR: 'invalid_argument',
  EISDIR: 'invalid_argument',
  EINVAL: 'invalid_argument',
  ELOOP: 'invalid_argument',
  ENAMETOOLONG: 'invalid_argument',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  EROFS: 'permission_denied',
  ENOSPC: 'resource_exhausted',
  EDQUOT: 'resource_exhausted',
};

/** An fs failure on `path` as an AgentboxError whose message names the path. */
export function fsError(err: unknown, path: string): AgentboxError {
  if (err instanceof AgentboxError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const code = (errno && FS_CODE[errno]) || 'internal';
  const what = code === 'not_found' ? `path '${path}' does not exist` : `${errno ?? 'error'} on '${path}'`;
  return new AgentboxError(code, what, { cause: err, details: { path, errno } });
}
