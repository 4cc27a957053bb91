/**
 * Remove: deletes a file or a directory tree. A path that does not exist is no error: E2B's envd
 * removes with Go's os.RemoveAll, which succeeds on a missing path, and its SDKs pass that on.
 */
import { rmSync } from 'node:fs';
import type { HandlerContext } from '@connectrpc/connect';
import type { RemoveRequest } from '../gen/filesystem_pb.ts';
import { requestUser, userPath } from '../request-user.ts';
import { fsError } from '../errors.ts';
import type { FilesystemDeps } from './deps.ts';

export async function remove(deps: FilesystemDeps, req: RemoveRequest, ctx: HandlerContext) {
  const user = requestUser(deps, ctx);
  const path = userPath(deps, user, req.path);
  removePath(path);
  return {};
}

/** Deletes a file or a directory tree at an absolute path; nothing there is no error. */
export function removePath(path: string): void {
  try { rmSync(path, { recursive: true, force: true }); } catch (err) { throw fsError(err, path); }
}
