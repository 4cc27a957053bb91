/** DELETE /pty/{id}: kills the session's process, closes its client and forgets it. */
import type { ServerResponse } from 'node:http';
import { sendEmpty } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';
import { findPty } from './pty-status.ts';

export function deletePty(deps: ExecdDeps, id: string, res: ServerResponse): void {
  findPty(deps, id).close();
  deps.ptys.delete(id);
  sendEmpty(res);
}
