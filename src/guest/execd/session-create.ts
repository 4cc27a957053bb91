/** POST /session: starts a persistent bash (sh in images without it) as the sandbox's default user; `{session_id}`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import { BashSession } from './bash-session.ts';
import { newExecutionId } from './commands.ts';
import type { ExecdDeps } from './deps.ts';
import { readBody } from './request.ts';
import { CreateSessionSchema } from './schemas.ts';
import { commandUser, launchShell, shellPath } from './shell.ts';

export async function createSession(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, CreateSessionSchema);
  const id = newExecutionId();
  const bash = await launchShell(deps, { args: shellPath().endsWith('bash') ? ['--noprofile', '--norc'] : ['-s'], user: commandUser(deps), cwd: body.cwd, stdin: true, tag: `session-${id}` });
  deps.sessions.set(id, new BashSession(id, bash));
  void bash.exited().then(() => deps.sessions.delete(id));
  sendJson(res, 200, { session_id: id });
}
