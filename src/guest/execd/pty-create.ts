/** POST /pty: records a PTY session (its process starts with the first WebSocket client); `{session_id}`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import { newExecutionId } from './commands.ts';
import type { ExecdDeps } from './deps.ts';
import { PtySession } from './pty-session.ts';
import { readBody } from './request.ts';
import { CreatePtySchema } from './schemas.ts';
import { commandUser } from './shell.ts';

export async function createPty(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, CreatePtySchema);
  const id = newExecutionId();
  deps.ptys.set(id, new PtySession({ id, user: commandUser(deps), cwd: body.cwd, command: body.command || undefined }));
  sendJson(res, 200, { session_id: id });
}
