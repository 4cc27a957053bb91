/** MakeDir: creates the directory and its parents, owned by the user; already_exists when present. */
import { statSync } from 'node:fs';
import type { HandlerContext } from '@connectrpc/connect';
import { AgentboxError } from '../../api/errors.ts';
import type { MakeDirRequest } from '../gen/filesystem_pb.ts';
import { requestUser, userPath } from '../request-user.ts';
import { fsError } from '../errors.ts';
import { chownAll } from './chown.ts';
import { makeDirs } from './make-dirs.ts';
import { statEntry } from './entry.ts';
import type { FilesystemDeps } from './deps.ts';
import type { OsUser } from '../users.ts';

export async function makeDir(deps: FilesystemDeps, req: MakeDirRequest, ctx: HandlerContext) {
  const user = requestUser(deps, ctx);
  const path = userPath(deps, user, req.path);
  const existing = (() => { try { return statSync(path); } catch { return undefined; } })();
  if (existing?.isDirectory()) throw new AgentboxError('already_exists', `directory '${path}' already exists`);
  makeDirAs(user, path);
  return { entry: statEntry(path, deps.users) };
}

/** mkdir -p of an absolute path, the directories it creates owned by `user`; an existing directory is fine. */
export function makeDirAs(user: OsUser, path: string): void {
  const existing = (() => { try { return statSync(path); } catch { return undefined; } })();
  if (existing?.isDirectory()) return;
  if (existing) throw new AgentboxError('invalid_argument', `'${path}' exists and is not a directory`);
  try {
    chownAll(makeDirs(path), user);
  } catch (err) {
    throw fsError(err, path);
  }
}
