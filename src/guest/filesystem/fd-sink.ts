/**
 * A Writable that writes to an open file descriptor on the event loop and closes it at the end or
 * on failure. Under gVisor every trip through libuv's thread pool (what an fs.WriteStream makes
 * per write) costs thread wake-ups in the sentry; written here, the chunks that wait go in one
 * writev, and an upload of 4 MiB took 34–62 ms against 60–79 ms (BENCHMARKS.md, issue #13).
 * Chunks are gathered up to 1 MiB before a writev, since every write is a trip into the sentry and
 * a socket read gives 64 KiB: a 64 MiB upload took 272–362 ms against 412–516 ms writing each.
 * Each write blocks the loop for as long as the kernel takes to copy what was gathered, as
 * files-get.ts's whole reads do. A gathered chunk is kept after its callback, so a source must
 * not reuse a buffer it wrote (sockets, zlib and busboy hand over fresh ones).
 */
import { closeSync, writevSync } from 'node:fs';
import { Writable } from 'node:stream';
import { AgentboxError } from '../../api/errors.ts';

/** Writes all of `buffers`, however many calls it takes (a writev may write part, or at most IOV_MAX buffers). */
export function writeAllSync(fd: number, buffers: Buffer[]): void {
  let rest = buffers.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let written = writevSync(fd, rest);
    if (written === 0) throw new AgentboxError('internal', 'a write to the file made no progress');
    const next: Buffer[] = [];
    for (const b of rest) {
      if (written >= b.length) { written -= b.length; continue; }
      next.push(written > 0 ? b.subarray(written) : b);
      written = 0;
    }
    rest = next;
  }
}

/** Bytes gathered before one writev: a socket read gives 64 KiB, and each write is a trip into gVisor's sentry. */
const GATHER_BYTES = 1024 * 1024;

/** Owns `fd` from here: closed once the stream ends, fails or is destroyed. */
export function fdSink(fd: number): Writable {
  let open = true;
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  const flush = () => {
    const buffers = gathered;
    gathered = [];
    gatheredBytes = 0;
    writeAllSync(fd, buffers);
  };
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  return new Writable({
    writev(chunks, done) {
      try {
        for (const { chunk } of chunks as { chunk: Buffer }[]) {
          gathered.push(chunk);
          gatheredBytes += chunk.length;
        }
        if (gatheredBytes >= GATHER_BYTES) flush();
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    final(done) {
      try {
        flush();
        close();
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    destroy(err, done) {
      // The error that destroyed the stream is the one to report, not a failing close after it.
      try { close(); } catch { /* reported: err */ }
      done(err);
    },
  });
}
