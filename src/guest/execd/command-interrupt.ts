/** DELETE /command?id=: kills a running command's process group; a command that already ended is left as it is. */
import { sendEmpty } from '../http/respond.ts';
import type { ServerResponse } from 'node:http';
import type { ExecdDeps } from './deps.ts';
import { requireQuery } from './request.ts';

export function interruptCommand(deps: ExecdDeps, url: URL, res: ServerResponse): void {
  const [id] = requireQuery(url, 'id');
  const rec = deps.commands.get(id!);
  if (!rec.handle.end) rec.handle.driver.kill('SIGKILL');
  sendEmpty(res);
}
