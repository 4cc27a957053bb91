/**
 * Reads a sandbox's console log (Engine.logPath): what is there, then, when following, what the
 * runtime appends, until the sandbox ends or the reader stops. The runtime appends to the file
 * from another process, so new bytes are noticed by inotify (fs.watch), with a periodic look as
 * a backstop for a change made between a read and the watch that follows it.
 */
import { watch } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;
/** Longest wait between two looks at a followed log when inotify says nothing. */
const RECHECK_MS = 1000;

export interface ConsoleLogOptions {
  follow: boolean;
  signal: AbortSignal;
  /** True once the sandbox is gone: a followed log then ends. */
  ended: () => boolean;
}

export async function* readConsoleLog(path: string, o: ConsoleLogOptions): AsyncGenerator<Uint8Array> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!fh) return;
  try {
    let offset = 0;
    for (;;) {
      for (let chunk = await readAt(fh, offset); chunk.length > 0; chunk = await readAt(fh, offset)) {
        offset += chunk.length;
        yield chunk;
      }
      if (!o.follow || o.signal.aborted || o.ended()) return;
      await changeOf(path, o.signal);
    }
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, offset: number): Promise<Uint8Array> {
  const buf = Buffer.alloc(CHUNK);
  const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
  return buf.subarray(0, bytesRead);
}

/** Resolves when `path` changes or is removed, when `signal` aborts, or after RECHECK_MS. */
function changeOf(path: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(path, { persistent: false });
    const done = () => {
      clearTimeout(timer);
      watcher.close();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, RECHECK_MS);
    watcher.on('change', done);
    watcher.on('error', done);
    signal.addEventListener('abort', done);
  });
}
