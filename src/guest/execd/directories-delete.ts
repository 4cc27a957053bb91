/** DELETE /directories?path=…: removes each directory tree (rm -rf). */
import { sendEmpty } from '../http/respond.ts';
import type { ServerResponse } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { removePath } from '../filesystem/remove.ts';
import type { ExecdDeps } from './deps.ts';
import { fileInfo } from './file-info.ts';
import { execdPath } from './path.ts';
import { requireQuery } from './request.ts';

export function deleteDirectories(deps: ExecdDeps, url: URL, res: ServerResponse): void {
  for (const p of requireQuery(url, 'path')) {
    const path = execdPath(deps, p);
    const type = fileInfo(path, deps.users).type;
    if (type !== 'directory') throw new AgentboxError('invalid_argument', `'${path}' is a ${type}; delete it with DELETE /files`);
    removePath(path);
  }
  sendEmpty(res);
}
