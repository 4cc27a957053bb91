/**
 * A Writable that writes to an open file descriptor on the event loop and closes it at the end or
 * on failure. Under gVisor every trip through libuv's thread pool (what an fs.WriteStream makes
 * per write) costs thread wake-ups in the sentry; written here, the chunks that wait go in one
 * writev, and an upload of 4 MiB took 34–62 ms against 60–79 ms (BENCHMARKS.md, issue #13).
 * Each write blocks the loop for as long as the kernel takes to copy one socket read's worth of
 * bytes, as files-get.ts's whole reads do.
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

/** Owns `fd` from here: closed once the stream ends, fails or is destroyed. */
export function fdSink(fd: number): Writable {
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  return new Writable({
    writev(chunks, done) {
      try {
        writeAllSync(fd, chunks.map((c) => c.chunk as Buffer));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    final(done) {
      try {
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
