/** DELETE /files?path=…: deletes files (directories go through DELETE /directories). */
import { sendEmpty } from '../http/respond.ts';
import { lstatSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fsError } from '../errors.ts';
import { removePath } from '../filesystem/remove.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';
import { execdPath } from './path.ts';
import { requireQuery } from './request.ts';

export function deleteFiles(deps: ExecdDeps, url: URL, res: ServerResponse): void {
  for (const p of requireQuery(url, 'path')) {
    const path = execdPath(deps, p);
    let isDir: boolean;
    try { isDir = lstatSync(path).isDirectory(); } catch (err) { throw fsError(err, path); }
    if (isDir) throw execdError('invalid_argument', 'INVALID_FILE', `'${path}' is a directory; delete it with DELETE /directories`);
    removePath(path);
  }
  sendEmpty(res);
}
