/**
 * A file's first `size` bytes as a stream, for a response that promised that many in its
 * Content-Length. Read to its end instead, a file that grows meanwhile sends more, and the extra
 * bytes reach the client as the start of its next response on the same keep-alive connection.
 * One that shrinks ends the body early, which the client sees as a cut-off response.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * Read 1 MiB at a time, not fs's 64 KiB: in a sandbox every read is a trip through libuv's thread
 * pool and a wake-up of the event loop in gVisor's sentry, and 64 MiB downloaded from the guest in
 * 285 ms against 750-770 ms (BENCHMARKS.md, issue #13). A larger chunk is also what the socket
 * takes in one write.
 */
const CHUNK_BYTES = 1024 * 1024;

export function fileBytes(file: string | { fd: number }, size: number): Readable {
  if (size <= 0) return Readable.from([]);
  const range = { end: size - 1, highWaterMark: CHUNK_BYTES };
  return typeof file === 'string' ? createReadStream(file, range) : createReadStream('', { fd: file.fd, ...range });
}
