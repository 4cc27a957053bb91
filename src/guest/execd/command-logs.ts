/**
 * GET /command/{id}/logs?cursor=: a background command's combined output from byte `cursor`
 * (default 0) as text/plain; the EXECD-COMMANDS-TAIL-CURSOR header is where the next read starts.
 */
import type { ServerResponse } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { EXECD_TAIL_CURSOR_HEADER } from '../../api/opensandbox-execd.ts';
import type { ExecdDeps } from './deps.ts';

export function commandLogs(deps: ExecdDeps, id: string, url: URL, res: ServerResponse): void {
  const rec = deps.commands.get(id);
  const raw = url.searchParams.get('cursor') ?? '0';
  const cursor = Number(raw);
  if (!Number.isInteger(cursor) || cursor < 0) throw new AgentboxError('invalid_argument', `cursor '${raw}' must be a non-negative integer`);
  const content = Buffer.concat(rec.log).subarray(cursor);
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': content.length,
    [EXECD_TAIL_CURSOR_HEADER]: String(Math.max(cursor, rec.logBytes)),
  });
  res.end(content);
}
