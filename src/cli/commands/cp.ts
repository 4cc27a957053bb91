/**
 * `cp SRC DST`: copies a file between the host and a sandbox (`ID:/path` on either side), or
 * between two sandboxes. The bytes stream through, so a file of any size the server accepts
 * copies in constant memory; as with cp(1), a DST that is a directory (or a sandbox path ending
 * in `/`) receives the file under its own name.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Files } from '../../sdk/files.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, UsageError, type Command } from '../io.ts';
import { localSource } from '../local-source.ts';
import { client } from './sandboxes.ts';

interface Remote { id: string; path: string }

const remote = (spec: string): Remote | undefined => {
  const m = /^([a-z0-9]{1,64}):(\/.*)$/.exec(spec);
  return m ? { id: m[1]!, path: m[2]! } : undefined;
};

/** A sandbox path ending in `/` names a directory: the file keeps its own name in it. */
const intoRemote = (dst: Remote, name: string): string => (dst.path.endsWith('/') ? dst.path + name : dst.path);

/** Where a download goes; a directory that is not there is a usage error saying what to do, before any byte moves. */
async function intoLocal(dst: string, name: string): Promise<string> {
  const st = await stat(dst).catch(() => undefined);
  if (st?.isDirectory()) return join(dst, name);
  if (dst.endsWith('/')) {
    // stat of `file/` fails as if nothing were there; the name without its slash says which it is.
    const file = await stat(dst.replace(/\/+$/, '')).catch(() => undefined);
    throw new UsageError(file ? `${dst} is a file, not a directory` : `directory ${dst} does not exist; create it (mkdir -p ${dst}) or name the file to write`);
  }
  const parent = dirname(dst);
  if (!(await stat(parent).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`directory ${parent} does not exist; create it (mkdir -p ${parent}) first`);
  }
  return dst;
}

/**
 * Writes `body` to `target` through a temporary file beside it, renamed into place once
 * complete: a failed copy leaves neither a partial file nor a damaged earlier one.
 */
async function writeLocal(target: string, body: ReadableStream<Uint8Array>): Promise<void> {
  const partial = join(dirname(target), `.${basename(target)}.agentbox-${randomBytes(4).toString('hex')}`);
  try {
    await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

export const cp: Command = async (args, io) => {
  const { positionals } = parseFlags(args, flagsOf('cp'));
  if (positionals.length !== 2) throw new UsageError('usage: agentbox cp SRC DST   (ID:/absolute/path on one side)');
  const [srcSpec, dstSpec] = positionals as [string, string];
  const [src, dst] = [remote(srcSpec), remote(dstSpec)];
  const api = client(io);
  const files = (r: Remote) => new Files(api, r.id);
  if (src && !dst) {
    await writeLocal(await intoLocal(dstSpec, posix.basename(src.path)), await files(src).read(src.path, { format: 'stream' }));
  } else if (dst && !src) {
    await files(dst).write(intoRemote(dst, basename(srcSpec)), await localSource(srcSpec, 'file'));
  } else if (src && dst) {
    await files(dst).write(intoRemote(dst, posix.basename(src.path)), await files(src).read(src.path, { format: 'stream' }));
  } else {
    throw new UsageError('one side of cp must be ID:/path');
  }
  return 0;
};
