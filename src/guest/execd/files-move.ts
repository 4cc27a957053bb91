/** POST /files/mv: `[{src, dest}]`, renamed in order through the filesystem service's move. */
import { sendEmpty } from '../http/respond.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveUser } from '../auth.ts';
import { moveAs } from '../filesystem/move.ts';
import type { ExecdDeps } from './deps.ts';
import { execdPath } from './path.ts';
import { readBody } from './request.ts';
import { MovesSchema } from './schemas.ts';

export async function moveFiles(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const moves = await readBody(req, MovesSchema);
  const user = resolveUser(deps, undefined);
  for (const m of moves) moveAs(user, execdPath(deps, m.src), execdPath(deps, m.dest));
  sendEmpty(res);
}
