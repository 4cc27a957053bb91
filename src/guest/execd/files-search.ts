/** GET /files/search?path=<dir>&pattern=<glob, default **>: FileInfo of every file under the directory that matches. */
import type { ServerResponse } from 'node:http';
import { relative } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { FileType } from '../gen/filesystem_pb.ts';
import { walk } from '../filesystem/list-dir.ts';
import type { WireEntry } from '../filesystem/entry.ts';
import { sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';
import { fileInfo } from './file-info.ts';
import { globMatcher } from './glob.ts';
import { execdPath } from './path.ts';
import { requireQuery } from './request.ts';

export function searchFiles(deps: ExecdDeps, url: URL, res: ServerResponse): void {
  const dir = execdPath(deps, requireQuery(url, 'path')[0]!);
  const info = fileInfo(dir, deps.users);
  if (info.type !== 'directory') throw new AgentboxError('invalid_argument', `'${dir}' is not a directory`);
  const matches = globMatcher(url.searchParams.get('pattern') || '**');
  const entries: WireEntry[] = [];
  walk(dir, Infinity, deps.users, entries);
  // Regular files only: a symlink reports its target's type (filesystem/entry.ts).
  const found = entries.filter((e) => e.type === FileType.FILE && !e.isSymlink && matches(relative(dir, e.path!)));
  sendJson(res, 200, found.map((e) => fileInfo(e.path!, deps.users)));
}
