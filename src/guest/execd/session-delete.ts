/** DELETE /session/{id}: ends the session's bash and everything it started. */
import { sendEmpty } from '../http/respond.ts';
import type { ServerResponse } from 'node:http';
import type { BashSession } from './bash-session.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';

export function findSession(deps: ExecdDeps, id: string): BashSession {
  const s = deps.sessions.get(id);
  if (!s) throw execdError('not_found', 'RUNTIME_ERROR', `session '${id}' does not exist (it was deleted or its bash exited); create one with POST /session`);
  return s;
}

export function deleteSession(deps: ExecdDeps, id: string, res: ServerResponse): void {
  findSession(deps, id).close();
  deps.sessions.delete(id);
  sendEmpty(res);
}
