/**
 * Reads the tar(.gz) an E2B SDK uploads for one COPY instruction (node-tar from the JS SDK,
 * Python's tarfile from the Python SDK: ustar with PAX or GNU long-name headers), in memory: the
 * host never extracts a tenant's archive onto its own filesystem. Only regular files come out;
 * they become recipe files that the build copies in inside its sandbox (src/engine/build-steps.ts).
 */
import { gunzipSync } from 'node:zlib';
import { AgentboxError } from '../../../api/errors.ts';

export interface ArchiveFile {
  /** Relative to the SDK's file context, `/`-separated, without a leading `./`. */
  path: string;
  /** Permission bits from the archive. */
  mode: number;
  content: Buffer;
}

export interface ArchiveLimits { maxFiles: number; maxBytes: number }

const BLOCK = 512;

const field = (h: Buffer, at: number, len: number): string => {
  const raw = h.subarray(at, at + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
};

const octal = (h: Buffer, at: number, len: number): number => {
  const n = parseInt(field(h, at, len).trim() || '0', 8);
  if (!Number.isFinite(n) || n < 0) throw bad('a header holds a size or mode that is not an octal number');
  return n;
};

const bad = (why: string) => new AgentboxError('invalid_argument', `the uploaded COPY archive is not a tar(.gz) the SDK makes: ${why}`);

/** PAX records `<len> key=value\n`: only `path` matters here. */
function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = Number(data.subarray(at, space).toString());
    if (space < 0 || !Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += len;
  }
  return path;
}

const clean = (p: string): string => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

export function readArchive(upload: Buffer, limits: ArchiveLimits): ArchiveFile[] {
  let tar = upload;
  if (upload[0] === 0x1f && upload[1] === 0x8b) {
    try {
      // Bounded: a small archive must not inflate into the host's memory (a gzip bomb).
      tar = gunzipSync(upload, { maxOutputLength: limits.maxBytes + limits.maxFiles * 3 * BLOCK + 64 * 1024 });
    } catch (err) {
      throw bad(`it does not gunzip within ${limits.maxBytes} bytes of content (${(err as Error).message})`);
    }
  }
  const files: ArchiveFile[] = [];
  let bytes = 0;
  let longName: string | undefined;
  for (let at = 0; at + BLOCK <= tar.length;) {
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] ?? 0);
    const data = tar.subarray(at + BLOCK, at + BLOCK + size);
    if (data.length < size) throw bad('it ends inside an entry');
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      longName = type === 'x' ? paxPath(data) ?? longName : field(data, 0, data.length);
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(h, 345, 155);
    const name = clean(longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100)));
    longName = undefined;
    if (type === '5') continue;
    if (type === '2' || type === '1') throw bad(`'${name}' is a link; copy with resolveSymlinks: true (resolve_symlinks=True in Python) to upload what it points to`);
    if (type !== '0' && type !== '\0' && type !== '7') throw bad(`'${name}' is neither a file nor a directory (tar type '${type}')`);
    bytes += size;
    if (files.length >= limits.maxFiles) throw new AgentboxError('invalid_argument', `a COPY brings more than ${limits.maxFiles} files: copy fewer, or bake them into a parent image (an OCI archive)`);
    if (bytes > limits.maxBytes) throw new AgentboxError('invalid_argument', `COPY files hold more than ${limits.maxBytes} bytes: bake large content into a parent image (an OCI archive) instead`);
    files.push({ path: name, mode: octal(h, 100, 8) & 0o777, content: Buffer.from(data) });
  }
  return files;
}
