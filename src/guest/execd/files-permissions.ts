/** POST /files/permissions: `{ "<path>": {mode, owner?, group?} }`, applied path by path. */
import { sendEmpty } from '../http/respond.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecdDeps } from './deps.ts';
import { execdPath } from './path.ts';
import { applyPermission } from './permissions.ts';
import { readBody } from './request.ts';
import { PermissionsByPathSchema } from './schemas.ts';

export async function setPermissions(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, PermissionsByPathSchema);
  for (const [p, perm] of Object.entries(body)) applyPermission(execdPath(deps, p), perm, deps.users);
  sendEmpty(res);
}
