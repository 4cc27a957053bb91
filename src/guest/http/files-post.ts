/**
 * POST /files: writes files as the request's user. Either multipart/form-data (every part named
 * `file`; the part's filename is the target path when the `path` query is absent) or a raw
 * `application/octet-stream` body for `path`, optionally `Content-Encoding: gzip`. Parents are
 * created as needed. `X-Metadata-<key>` headers become every written file's metadata, replacing
 * what it had (filesystem/metadata.ts). 200 with `[{name, path, type: "file", metadata?}]`.
 *
 * The guest runs as root, but a write for a user is done with that user's permissions: parents
 * and file are opened with the process's effective uid/gid switched to the user's, so a symlink
 * the user planted (`~/notes.txt -> /etc/shadow`) leads only where the user could write anyway.
 */
import { closeSync, constants, openSync, realpathSync } from 'node:fs';
import { makeDirs } from '../filesystem/make-dirs.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import busboy from 'busboy';
import { AgentboxError } from '../../api/errors.ts';
import type { GuestContext } from '../context.ts';
import type { ProcessFactory } from '../process/process-factory.ts';
import { fsError } from '../errors.ts';
import { userPath } from '../request-user.ts';
import type { OsUser } from '../users.ts';
import { fdSink } from '../filesystem/fd-sink.ts';
import { metadataFromHeaders, readMetadata, validateMetadata, writeMetadata, type Metadata } from '../filesystem/metadata.ts';
import { authorizeFileRequest, requirePath, type FileRequest } from './file-user.ts';
import { sendJson } from './respond.ts';

interface WrittenFile {
  name: string;
  path: string;
  type: 'file';
  metadata?: Metadata;
}

/**
 * Runs `fn` (synchronous: no other request's code runs meanwhile) with the effective ids of
 * `user`; a root guest can switch back because its real uid stays 0. Not needed for root, nor
 * possible when the guest itself is not root. Costly under gVisor: glibc applies each set*id
 * call to every thread of the process, 1 to 2 ms a call with the guest's 11 threads and the event
 * loop blocked (BENCHMARKS.md, issue #13), so the process factory opens files for users instead
 * and this is the way only without one.
 */
function asUser<T>(user: OsUser, fn: () => T): T {
  if (user.uid === 0 || process.geteuid?.() !== 0) return fn();
  const groups = process.getgroups!();
  process.setgroups!([user.gid]);
  process.setegid!(user.gid);
  process.seteuid!(user.uid);
  try {
    return fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
    process.setgroups!(groups);
  }
}

/** What a write needs: the guest's context and, where there is one, the process factory. */
export interface FileWriteDeps extends GuestContext {
  processFactory?: Pick<ProcessFactory, 'openAsUser'>;
}

/**
 * Opens `path` for writing as `user`, creating its parents, and when `metadata` is given replaces
 * the file's metadata before any content is written: as the user too, on the file the open
 * reached, so a link the user planted cannot lend the metadata to a file the user could not
 * write. Returns the fd and the metadata kept, so the answer says what was kept.
 */
async function openForWrite(g: FileWriteDeps, user: OsUser, path: string, metadata: Metadata | undefined): Promise<{ fd: number; kept?: Metadata }> {
  if (user.uid !== 0 && process.geteuid?.() === 0 && g.processFactory) {
    const opened = await g.processFactory.openAsUser(user, path, metadata);
    // Written as asked, so what the file keeps is the set itself (readMetadata: none when empty).
    if (opened) return { fd: opened.fd, kept: opened.metadataKept && metadata && Object.keys(metadata).length > 0 ? { ...metadata } : undefined };
  }
  return asUser(user, () => {
    makeDirs(dirname(path));
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o666);
    if (!metadata) return { fd };
    try {
      const file = realpathSync(path);
      writeMetadata(file, metadata);
      return { fd, kept: readMetadata(file) };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  });
}

/** `metadata` replaces the file's (E2B's POST /files always sends a set); absent, it is left alone (execd). */
export async function writeFile(g: FileWriteDeps, user: OsUser, target: string, body: Readable, metadata?: Metadata): Promise<WrittenFile> {
  const path = userPath(g, user, target);
  let kept: Metadata | undefined;
  try {
    if (metadata) validateMetadata(metadata);
    const opened = await openForWrite(g, user, path, metadata);
    kept = opened.kept;
    // The sink owns the fd from here and closes it, also when the body fails.
    await pipeline(body, fdSink(opened.fd));
  } catch (err) {
    body.resume(); // drain what is left so the request can complete
    throw fsError(err, path);
  }
  return { name: basename(path), path, type: 'file', ...(kept && { metadata: kept }) };
}

function uploadMultipart(g: FileWriteDeps, f: FileRequest, req: IncomingMessage, metadata: Metadata): Promise<WrittenFile[]> {
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
      let write: Promise<WrittenFile>;
      if (target) {
        write = writeFile(g, f.user, target, stream, metadata);
      } else {
        stream.resume();
        write = Promise.reject(new AgentboxError('invalid_argument', 'a multipart part has no filename and the path query is absent'));
      }
      // Awaited all together at 'close'; until then a failure must not count as unhandled, which
      // would end the guest (Node's default for an unhandled rejection).
      write.catch(() => undefined);
      writes.push(write);
    });
    bb.on('error', (err) => reject(new AgentboxError('invalid_argument', `bad multipart request: ${(err as Error).message}`)));
    bb.on('close', () => {
      Promise.all(writes).then(resolve, reject);
    });
    req.pipe(bb);
  });
}

export async function postFiles(g: FileWriteDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const f = authorizeFileRequest(g, req, url, 'write', Date.now());
  const metadata = metadataFromHeaders(req.headersDistinct);
  validateMetadata(metadata);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  let written: WrittenFile[];
  if (type.startsWith('multipart/form-data')) {
    written = await uploadMultipart(g, f, req, metadata);
  } else {
    const target = requirePath(f);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity') {
      throw new AgentboxError('invalid_argument', `Content-Encoding '${encoding}' is not supported; use gzip or none`);
    }
    const body: Readable = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
    written = [await writeFile(g, f.user, target, body, metadata)];
  }
  if (written.length === 0) throw new AgentboxError('invalid_argument', 'no file part in the request; send parts named "file"');
  sendJson(res, 200, written);
}
