/**
 * POST /files/upload: multipart with pairs of parts, `metadata` (a file part whose content is
 * JSON `{path, owner?, group?, mode?}`) and `file`, the n-th metadata describing the n-th file.
 * Files are written as the sandbox's default user through envd's writer (http/files-post.ts),
 * parents created; a file that arrives before its metadata is held in memory until it comes.
 */
import { sendEmpty } from '../http/respond.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import * as z from 'zod/mini';
import { resolveUser } from '../auth.ts';
import { describeIssues } from '../config.ts';
import { writeFile } from '../http/files-post.ts';
import type { ExecdDeps } from './deps.ts';
import { execdError } from './errors.ts';
import { applyPermission } from './permissions.ts';
import { execdPath } from './path.ts';
import { UploadMetadataSchema } from './schemas.ts';
import { withoutNulls } from './request.ts';

type Metadata = z.output<typeof UploadMetadataSchema>;

function parseMetadata(text: string): Metadata {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { throw execdError('invalid_argument', 'INVALID_FILE_METADATA', 'a metadata part is not JSON'); }
  const parsed = UploadMetadataSchema.safeParse(withoutNulls(raw));
  if (!parsed.success) throw execdError('invalid_argument', 'INVALID_FILE_METADATA', `invalid metadata: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function uploadFiles(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
    throw execdError('invalid_argument', 'INVALID_FILE', 'send multipart/form-data with parts "metadata" and "file"');
  }
  const user = resolveUser(deps, undefined);
  const metadata: Promise<Metadata>[] = [];
  const resolvers: ((m: Promise<Metadata>) => void)[] = [];
  const writes: Promise<void>[] = [];
  let files = 0;
  const metaAt = (i: number): Promise<Metadata> => {
    while (metadata.length <= i) {
      const m = new Promise<Metadata>((r) => resolvers.push(r));
      // Bad metadata may fail before its file arrives; the file's write reports it.
      m.catch(() => undefined);
      metadata.push(m);
    }
    return metadata[i]!;
  };
  let metas = 0;
  await new Promise<void>((resolve, reject) => {
    let bb: busboy.Busboy;
    try { bb = busboy({ headers: req.headers }); } catch (err) {
      reject(execdError('invalid_argument', 'INVALID_FILE', `bad multipart request: ${(err as Error).message}`));
      return;
    }
    bb.on('file', (name, stream) => {
      if (name === 'metadata') {
        const i = metas++;
        metaAt(i);
        resolvers[i]!(readAll(stream).then((b) => parseMetadata(b.toString('utf8'))));
        return;
      }
      if (name !== 'file') { stream.resume(); return; }
      const i = files++;
      // The file is held only while its metadata is missing: then the write streams it.
      const body = metas > i ? stream : readAll(stream).then((b) => Readable.from([b]));
      const write = Promise.all([metaAt(i), body]).then(async ([m, content]) => {
        const path = execdPath(deps, m.path);
        await writeFile(deps, user, path, content);
        applyPermission(path, m, deps.users);
      });
      // A refused file is still read to its end, or busboy waits on it and never closes.
      write.catch(() => stream.resume());
      writes.push(write);
    });
    bb.on('error', (err) => reject(execdError('invalid_argument', 'INVALID_FILE', `bad multipart request: ${(err as Error).message}`)));
    bb.on('close', resolve);
    req.pipe(bb);
  });
  if (files === 0 || files !== metas) {
    for (let i = metas; i < files; i++) resolvers[i]?.(Promise.reject(execdError('invalid_argument', 'INVALID_FILE_METADATA', 'missing metadata')));
    await Promise.allSettled(writes);
    throw execdError('invalid_argument', 'INVALID_FILE_METADATA', `got ${files} "file" and ${metas} "metadata" parts; send one metadata part per file`);
  }
  await Promise.all(writes);
  sendEmpty(res);
}
