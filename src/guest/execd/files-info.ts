/** GET /files/info?path=a&path=b: `{ "<path>": FileInfo }`; a missing path is 404 FILE_NOT_FOUND. */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';
import { fileInfo } from './file-info.ts';
import { execdPath } from './path.ts';
import { requireQuery } from './request.ts';

export function filesInfo(deps: ExecdDeps, url: URL, res: ServerResponse): void {
  const out: Record<string, unknown> = {};
  for (const p of requireQuery(url, 'path')) out[p] = fileInfo(execdPath(deps, p), deps.users);
  sendJson(res, 200, out);
}
