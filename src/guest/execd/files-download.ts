/**
 * GET /files/download?path=: the file's bytes. `Range: bytes=a-b` (one range) answers 206 with
 * Content-Range, 416 when it lies outside the file; `offset` (1-based line) and `limit` (lines)
 * answer those lines as text/plain instead. The two ways are exclusive.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AgentboxError } from '../../api/errors.ts';
import { fileBytes } from '../../api/file-bytes.ts';
import { fsError } from '../errors.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';
import { execdPath } from './path.ts';
import { requireQuery } from './request.ts';

/** [start, end] inclusive of a single `bytes=` range, null when it cannot be satisfied. */
export function byteRange(header: string, size: number): [number, number] | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new AgentboxError('invalid_argument', `Range '${header}' is not one range of the form bytes=a-b`);
  if (m[1] === '') {
    const n = Math.min(Number(m[2]), size);
    return n > 0 ? [size - n, size - 1] : null;
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start < size && start <= end ? [start, end] : null;
}

function positiveInt(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new AgentboxError('invalid_argument', `${name} '${raw}' must be a positive integer`);
  return n;
}

export async function downloadFile(deps: ExecdDeps, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
  const path = execdPath(deps, requireQuery(url, 'path')[0]!);
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw execdError('invalid_argument', 'INVALID_FILE', `'${path}' is not a regular file`);
    size = st.size;
  } catch (err) {
    throw fsError(err, path);
  }
  const offset = positiveInt(url, 'offset');
  const limit = positiveInt(url, 'limit');
  const range = req.headers.range;
  if (range && (offset !== undefined || limit !== undefined)) throw new AgentboxError('invalid_argument', 'use either a Range header or offset/limit, not both');
  if (offset !== undefined || limit !== undefined) {
    const lines = readFileSync(path, 'utf8').split('\n');
    const from = (offset ?? 1) - 1;
    const text = lines.slice(from, limit === undefined ? undefined : from + limit).join('\n');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(basename(path))}`,
    'Accept-Ranges': 'bytes',
  };
  if (!range) {
    res.writeHead(200, { ...headers, 'Content-Length': size });
    await pipeline(fileBytes(path, size), res);
    return;
  }
  const r = byteRange(range, size);
  if (!r) {
    res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 }).end();
    return;
  }
  res.writeHead(206, { ...headers, 'Content-Length': r[1] - r[0] + 1, 'Content-Range': `bytes ${r[0]}-${r[1]}/${size}` });
  await pipeline(createReadStream(path, { start: r[0], end: r[1] }), res);
}
