/** ListDir: entries of a directory down to `depth` levels (1 = the directory itself). Symlinks are not followed. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HandlerContext } from '@connectrpc/connect';
import { AgentboxError } from '../../api/errors.ts';
import { FileType, type ListDirRequest } from '../gen/filesystem_pb.ts';
import { requestUser, userPath } from '../request-user.ts';
import { fsError } from '../errors.ts';
import { statEntry, type WireEntry } from './entry.ts';
import type { FilesystemDeps } from './deps.ts';
import type { UserDb } from '../users.ts';

/**
 * Appends the entries under `dir` down to `depth` levels, in lexical order. A symlink to a
 * directory is listed (with its target's type) but not descended into, so a link loop ends.
 */
export function walk(dir: string, depth: number, users: UserDb, out: WireEntry[]): void {
  let names: string[];
  try { names = readdirSync(dir).sort(); } catch (err) { throw fsError(err, dir); }
  for (const name of names) {
    const path = join(dir, name);
    let entry: WireEntry;
    try { entry = statEntry(path, users); } catch { continue; /* removed while listing */ }
    out.push(entry);
    if (depth > 1 && entry.type === FileType.DIRECTORY && !entry.isSymlink) walk(path, depth - 1, users, out);
  }
}

export async function listDir(deps: FilesystemDeps, req: ListDirRequest, ctx: HandlerContext) {
  const user = requestUser(deps, ctx);
  const path = userPath(deps, user, req.path);
  let isDir: boolean;
  try { isDir = statSync(path).isDirectory(); } catch (err) { throw fsError(err, path); }
  if (!isDir) throw new AgentboxError('invalid_argument', `'${path}' is not a directory`);
  const entries: WireEntry[] = [];
  walk(path, Math.max(1, req.depth), deps.users, entries);
  return { entries };
}
