/** GET /directories/list?path=&depth=1: FileInfo of the entries, in lexical order; a symlink as `path` is refused. */
import type { ServerResponse } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { walk } from '../filesystem/list-dir.ts';
import type { WireEntry } from '../filesystem/entry.ts';
import { sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';
import { fileInfo } from './file-info.ts';
import { execdPath } from './path.ts';
import { requireQuery } from './request.ts';

export function listDirectory(deps: ExecdDeps, url: URL, res: ServerResponse): void {
  const dir = execdPath(deps, requireQuery(url, 'path')[0]!);
  const rawDepth = url.searchParams.get('depth') ?? '1';
  const depth = Number(rawDepth);
  if (!Number.isInteger(depth) || depth < 1) throw new AgentboxError('invalid_argument', `depth '${rawDepth}' must be a positive integer`);
  const type = fileInfo(dir, deps.users).type;
  if (type !== 'directory') throw new AgentboxError('invalid_argument', `'${dir}' is a ${type}, not a directory`);
  const entries: WireEntry[] = [];
  walk(dir, depth, deps.users, entries);
  sendJson(res, 200, entries.map((e) => fileInfo(e.path!, deps.users)));
}
