/** Stat: one entry; not_found when missing (the SDK's exists() → false). */
import type { HandlerContext } from '@connectrpc/connect';
import type { StatRequest } from '../gen/filesystem_pb.ts';
import { requestUser, userPath } from '../request-user.ts';
import { statEntry } from './entry.ts';
import type { FilesystemDeps } from './deps.ts';

export async function stat(deps: FilesystemDeps, req: StatRequest, ctx: HandlerContext) {
  const user = requestUser(deps, ctx);
  return { entry: statEntry(userPath(deps, user, req.path), deps.users) };
}
