/** GET /pty/{id}: `{session_id, running, output_offset}`; the offset is where a reconnect's `since=` can resume. */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';
import type { PtySession } from './pty-session.ts';

export function findPty(deps: ExecdDeps, id: string): PtySession {
  const s = deps.ptys.get(id);
  if (!s) throw execdError('not_found', 'RUNTIME_ERROR', `PTY session '${id}' does not exist (it was deleted); create one with POST /pty`);
  return s;
}

export function ptyStatus(deps: ExecdDeps, id: string, res: ServerResponse): void {
  const s = findPty(deps, id);
  sendJson(res, 200, { session_id: id, running: s.running, output_offset: s.output.end });
}
