/**
 * A file's first `size` bytes as a stream, for a response that promised that many in its
 * Content-Length. Read to its end instead, a file that grows meanwhile sends more, and the extra
 * bytes reach the client as the start of its next response on the same keep-alive connection.
 * One that shrinks ends the body early, which the client sees as a cut-off response.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export function fileBytes(file: string | { fd: number }, size: number): Readable {
  if (size <= 0) return Readable.from([]);
  return typeof file === 'string' ? createReadStream(file, { end: size - 1 }) : createReadStream('', { fd: file.fd, end: size - 1 });
}
