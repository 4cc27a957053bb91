/**
 * POST /files/replace[?verbose=true]: `{ "<path>": {old, new} }` replaces every occurrence of
 * `old` in each file; verbose answers `{ "<path>": {replacedCount} }`. Every file is checked
 * before any is written, so a missing one leaves all untouched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fsError } from '../errors.ts';
import { sendEmpty, sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';
import { execdPath } from './path.ts';
import { readBody } from './request.ts';
import { ReplacementsSchema } from './schemas.ts';

export async function replaceContents(deps: ExecdDeps, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
  const body = await readBody(req, ReplacementsSchema);
  const edits = Object.entries(body).map(([p, r]) => {
    const path = execdPath(deps, p);
    let text: string;
    try { text = readFileSync(path, 'utf8'); } catch (err) { throw fsError(err, path); }
    const parts = text.split(r.old);
    return { p, path, text: parts.join(r.new), count: parts.length - 1 };
  });
  const counts: Record<string, { replacedCount: number }> = {};
  for (const e of edits) {
    if (e.count > 0) {
      try { writeFileSync(e.path, e.text); } catch (err) { throw fsError(err, e.path); }
    }
    counts[e.p] = { replacedCount: e.count };
  }
  if (url.searchParams.get('verbose') === 'true') sendJson(res, 200, counts);
  else sendEmpty(res);
}
