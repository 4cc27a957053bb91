/** Move: renames a file or directory (copy + remove across filesystems), creating the destination's parents. */
import { cpSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HandlerContext } from '@connectrpc/connect';
import type { MoveRequest } from '../gen/filesystem_pb.ts';
import { requestUser, userPath } from '../request-user.ts';
import { fsError } from '../errors.ts';
import { chownAll } from './chown.ts';
import { makeDirs } from './make-dirs.ts';
import { statEntry } from './entry.ts';
import type { FilesystemDeps } from './deps.ts';
import type { OsUser } from '../users.ts';

export async function move(deps: FilesystemDeps, req: MoveRequest, ctx: HandlerContext) {
  const user = requestUser(deps, ctx);
  const source = userPath(deps, user, req.source);
  const destination = userPath(deps, user, req.destination);
  moveAs(user, source, destination);
  return { entry: statEntry(destination, deps.users) };
}

/** Renames absolute `source` to `destination`, creating the destination's parents owned by `user`. */
export function moveAs(user: OsUser, source: string, destination: string): void {
  try {
    chownAll(makeDirs(dirname(destination)), user);
    try {
      renameSync(source, destination);
    } catch (err) {
      // /tmp or a volume may be another filesystem than the overlay root.
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      cpSync(source, destination, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      rmSync(source, { recursive: true });
    }
  } catch (err) {
    throw fsError(err, source);
  }
}
