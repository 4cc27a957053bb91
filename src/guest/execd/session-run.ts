/** POST /session/{id}/run: runs a line in the session's bash, streamed like POST /command. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecdDeps } from './deps.ts';
import { readBody } from './request.ts';
import { RunInSessionSchema } from './schemas.ts';
import { openEventStream } from './sse.ts';
import { findSession } from './session-delete.ts';

export async function runInSession(deps: ExecdDeps, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const session = findSession(deps, id);
  const body = await readBody(req, RunInSessionSchema);
  await session.run({ command: body.command, cwd: body.cwd, timeoutMs: body.timeout }, openEventStream(req, res));
}
