/**
 * GET /files: a file's bytes, gzip-compressed when the client accepts it and the bytes compress
 * (406 when it accepts neither gzip nor identity), with Content-Disposition and a sniffed
 * Content-Type.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants as zlib, createGzip, deflateRawSync, gzipSync } from 'node:zlib';
import { AgentboxError } from '../../api/errors.ts';
import { fileBytes } from '../../api/file-bytes.ts';
import type { GuestContext } from '../context.ts';
import { fsError } from '../errors.ts';
import { userPath } from '../request-user.ts';
import { authorizeFileRequest, requirePath } from './file-user.ts';
import { sendJson } from './respond.ts';

/** The served codings the client accepts (RFC 9110 §12.5.3), or undefined when neither (→ 406). */
export function acceptedEncodings(header: string | undefined): { gzip: boolean; identity: boolean } | undefined {
  if (!header || !header.trim()) return { gzip: false, identity: true };
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (!coding) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(coding, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const star = q.get('*');
  const accepts = (c: string) => (q.get(c) ?? (c === 'identity' ? (star ?? 1) : (star ?? 0))) > 0;
  const accepted = { gzip: accepts('gzip'), identity: accepts('identity') };
  return accepted.gzip || accepted.identity ? accepted : undefined;
}

/**
 * The fastest level: the bytes mostly cross the host's own link to the server, and under gVisor
 * compressing costs far more than sending (BENCHMARKS.md, issue #13).
 */
const GZIP = { level: zlib.Z_BEST_SPEED };
/** gzip must save at least a tenth of the bytes to be worth its CPU. */
const WORTH_COMPRESSING = 0.9;

/**
 * Whether `sample` (a file's first bytes) compresses. Data that does not (an archive, an image,
 * encrypted or random bytes) is sent as it is to a client that accepts identity, which every
 * client that accepts gzip does unless it says `identity;q=0`: fetch and httpx ask for gzip on
 * every request, and compressing 1 MiB of random bytes took 8× as long as sending it.
 */
export function compresses(sample: Buffer): boolean {
  return deflateRawSync(sample, GZIP).length <= sample.length * WORTH_COMPRESSING;
}

/**
 * Files up to this size are read, and compressed, in one go on the event loop: under gVisor every
 * trip through libuv's thread pool (a stream's open, each read, its close, each zlib chunk) costs
 * thread wake-ups in the sentry (BENCHMARKS.md, issue #13).
 */
const WHOLE_READ_MAX = 64 * 1024;

/** The first `n` bytes of `path`. */
function headOf(path: string, n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try { return buf.subarray(0, readSync(fd, buf, 0, n, 0)); } finally { closeSync(fd); }
}

/** text/plain when the first 512 bytes of `data` are valid UTF-8 without NULs, else octet-stream. */
function sniffContentType(data: Buffer): string {
  const head = data.subarray(0, 512);
  const n = head.length;
  if (head.includes(0)) return 'application/octet-stream';
  try {
    // A multi-byte character cut at byte 512 is not binary: drop up to 3 trailing bytes.
    new TextDecoder('utf-8', { fatal: true }).decode(n === 512 ? head.subarray(0, 509) : head);
    return 'text/plain; charset=utf-8';
  } catch {
    return 'application/octet-stream';
  }
}

function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export async function getFiles(g: GuestContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const f = authorizeFileRequest(g, req, url, 'read', Date.now());
  const path = userPath(g, f.user, requirePath(f));
  let size: number;
  let mtime: Date;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new AgentboxError('invalid_argument', `'${path}' is a directory, not a file`);
    size = st.size;
    mtime = st.mtime;
  } catch (err) {
    throw fsError(err, path);
  }
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  if (!accepted) {
    sendJson(res, 406, { code: 406, message: 'only gzip and identity encodings are supported' });
    return;
  }
  const head = req.method === 'HEAD';
  // A file of one read is its own sample; a larger one is judged by its first as many bytes.
  let whole: Buffer | undefined;
  let sample: Buffer;
  try {
    whole = size <= WHOLE_READ_MAX ? readFileSync(path) : undefined;
    sample = whole ?? headOf(path, WHOLE_READ_MAX);
  } catch (err) {
    throw fsError(err, path);
  }
  const gzip = accepted.gzip && (!accepted.identity || compresses(sample));
  const headers: Record<string, string | number> = {
    'Content-Type': sniffContentType(sample),
    'Content-Disposition': contentDisposition(basename(path)),
    'Last-Modified': mtime.toUTCString(),
    Vary: 'Accept-Encoding',
  };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  else headers['Content-Length'] = size;
  if (whole && !head) {
    const body = gzip ? gzipSync(whole, GZIP) : whole;
    res.writeHead(200, { ...headers, 'Content-Length': body.length }).end(body);
    return;
  }
  res.writeHead(200, headers);
  if (head) {
    res.end();
    return;
  }
  // The size stat gave, which gzip's chunked answer keeps to as well.
  const source = fileBytes(path, size);
  await (gzip ? pipeline(source, createGzip(GZIP), res) : pipeline(source, res));
}
