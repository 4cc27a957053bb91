/** GET /command/status/{id}: whether a command still runs and, once ended, how. */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';

export function commandStatus(deps: ExecdDeps, id: string, res: ServerResponse): void {
  const rec = deps.commands.get(id);
  const end = rec.handle.end;
  sendJson(res, 200, {
    id: rec.id,
    content: rec.content,
    running: !end,
    ...(end ? { exit_code: end.exitCode } : {}),
    ...(end?.error ? { error: end.error } : {}),
    started_at: rec.startedAt.toISOString(),
    ...(rec.finishedAt ? { finished_at: rec.finishedAt.toISOString() } : {}),
  });
}
