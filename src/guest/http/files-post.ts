/**
 * POST /files: writes files as the request's user. Either multipart/form-data (every part named
 * `file`; the part's filename is the target path when the `path` query is absent) or a raw
 * `application/octet-stream` body for `path`, optionally `Content-Encoding: gzip`. Parents are
 * created and everything made is chowned to the user. 200 with `[{name, path, type: "file"}]`.
 */
import { createWriteStream, mkdirSync, chownSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import busboy from 'busboy';
import { AgentboxError } from '../../api/errors.ts';
import type { GuestContext } from '../context.ts';
import { fsError } from '../errors.ts';
import { userPath } from '../request-user.ts';
import type { OsUser } from '../users.ts';
import { chownAll, missingAncestors } from '../filesystem/chown.ts';
import { authorizeFileRequest, requirePath, type FileRequest } from './file-user.ts';
import { sendJson } from './respond.ts';

interface WrittenFile {
  name: string;
  path: string;
  type: 'file';
}

async function writeFile(g: GuestContext, user: OsUser, target: string, body: Readable): Promise<WrittenFile> {
  const path = userPath(g, user, target);
  try {
    const created = missingAncestors(dirname(path));
    mkdirSync(dirname(path), { recursive: true });
    chownAll(created, user);
    await pipeline(body, createWriteStream(path));
    chownSync(path, user.uid, user.gid);
  } catch (err) {
    body.resume(); // drain what is left so the request can complete
    throw fsError(err, path);
  }
  return { name: basename(path), path, type: 'file' };
}

function uploadMultipart(g: GuestContext, f: FileRequest, req: IncomingMessage): Promise<WrittenFile[]> {
  return new Promise((resolve, reject) => {
    const writes: Promise<WrittenFile>[] = [];
    let bb: busboy.Busboy;
    try {
      // preservePath: the filename *is* the target path for multi-file writes.
      bb = busboy({ headers: req.headers, preservePath: true });
    } catch (err) {
      reject(new AgentboxError('invalid_argument', `bad multipart request: ${(err as Error).message}`));
      return;
    }
    bb.on('file', (_field, stream, info) => {
      const target = f.rawPath ?? info.filename;
      if (!target) {
        stream.resume();
        writes.push(Promise.reject(new AgentboxError('invalid_argument', 'a multipart part has no filename and the path query is absent')));
        return;
      }
      writes.push(writeFile(g, f.user, target, stream));
    });
    bb.on('error', (err) => reject(new AgentboxError('invalid_argument', `bad multipart request: ${(err as Error).message}`)));
    bb.on('close', () => {
      Promise.all(writes).then(resolve, reject);
    });
    req.pipe(bb);
  });
}

export async function postFiles(g: GuestContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const f = authorizeFileRequest(g, req, url, 'write', Date.now());
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  let written: WrittenFile[];
  if (type.startsWith('multipart/form-data')) {
    written = await uploadMultipart(g, f, req);
  } else {
    const target = requirePath(f);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity') {
      throw new AgentboxError('invalid_argument', `Content-Encoding '${encoding}' is not supported; use gzip or none`);
    }
    const body: Readable = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
    written = [await writeFile(g, f.user, target, body)];
  }
  if (written.length === 0) throw new AgentboxError('invalid_argument', 'no file part in the request; send parts named "file"');
  sendJson(res, 200, written);
}
