/**
 * Failure translation at the guest's two edges (docs/architecture.md, rule “errors are translated at the edges”): handlers throw AgentboxError; the
 * Connect interceptor maps its code to a Connect code, the REST handlers to an HTTP status with
 * envd's `{message, code}` body. Node fs errors become AgentboxError once, here.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { codeFromString } from '@connectrpc/connect/protocol-connect';
import { CONNECT_CODE_OF } from '../api/envd-protocol.ts';
import { AgentboxError, asAgentboxError, type ErrorCode } from '../api/errors.ts';

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = asAgentboxError(err);
  return new ConnectError(e.message, codeFromString(CONNECT_CODE_OF[e.code]) ?? Code.Internal, undefined, undefined, e);
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
