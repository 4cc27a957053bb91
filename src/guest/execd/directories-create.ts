/** POST /directories: `{ "<path>": {mode, owner?, group?} }`, each created with its parents (mkdir -p). */
import { sendEmpty } from '../http/respond.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveUser } from '../auth.ts';
import { makeDirAs } from '../filesystem/make-dir.ts';
import type { ExecdDeps } from './deps.ts';
import { execdPath } from './path.ts';
import { applyPermission } from './permissions.ts';
import { readBody } from './request.ts';
import { PermissionsByPathSchema } from './schemas.ts';

export async function createDirectories(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, PermissionsByPathSchema);
  const user = resolveUser(deps, undefined);
  for (const [p, perm] of Object.entries(body)) {
    const path = execdPath(deps, p);
    makeDirAs(user, path);
    applyPermission(path, perm, deps.users);
  }
  sendEmpty(res);
}
