/** `sbx.files`: content and directories inside a sandbox, through the server's files routes. */
import type { FileEntryView, WatchChangeView, WatchEventView } from '../api/native.ts';
import { nativeApi } from '../api/native-routes.ts';
import { routePath, type ApiClient } from './api-client.ts';
import { AgentboxSdkError, errorFromBody, NotFoundError } from './errors.ts';
import { collect, type UploadData } from './transfer.ts';

export type EntryInfo = FileEntryView;
export type FilesystemEvent = WatchChangeView;

export interface WatchHandle {
  /** Stops watching. */
  stop(): void;
  /** Resolves when the watch ended (stopped, or the sandbox went away). */
  done: Promise<void>;
}

export class Files {
  /** @internal */
  constructor(private readonly api: ApiClient, private readonly sandboxId: string) {}

  private get id() { return { id: this.sandboxId }; }

  /**
   * A file's content as text, bytes, or a stream of chunks as they arrive (for files too large
   * to hold). Nothing moving for requestTimeoutMs fails the read; a long read that moves does not.
   *
   * @example
   *   const text = await sbx.files.read('/etc/hostname');
   *   const bytes = await sbx.files.read('/bin/sh', { format: 'bytes' });
   *   await pipeline(Readable.fromWeb(await sbx.files.read('/data.bin', { format: 'stream' })), createWriteStream('data.bin'));
   */
  read(path: string, opts?: { format?: 'text' }): Promise<string>;
  read(path: string, opts: { format: 'bytes' }): Promise<Uint8Array>;
  read(path: string, opts: { format: 'stream' }): Promise<ReadableStream<Uint8Array>>;
  async read(path: string, opts: { format?: 'text' | 'bytes' | 'stream' } = {}): Promise<string | Uint8Array | ReadableStream<Uint8Array>> {
    const body = await this.api.download(routePath('readFile', this.id), { query: { path } });
    if (opts.format === 'stream') return body;
    const bytes = await collect(body);
    return opts.format === 'bytes' ? bytes : new TextDecoder().decode(bytes);
  }

  /**
   * Writes a file, creating parent directories; acknowledged writes survive a server crash.
   * `data` streams to the sandbox as it is read: a Blob, a web stream or a Node readable stream
   * is never held whole.
   *
   * @example
   *   await sbx.files.write('/work/a.txt', 'x');
   *   await sbx.files.write('/work/data.bin', createReadStream('data.bin'));
   */
  write(path: string, data: UploadData): Promise<EntryInfo> {
    return this.api.upload<EntryInfo>(nativeApi.writeFile.method, routePath('writeFile', this.id), data, { query: { path } });
  }

  async list(path: string, opts: { depth?: number } = {}): Promise<EntryInfo[]> {
    return (await this.api.call('listFiles', this.id, { query: { path, depth: opts.depth } })).entries;
  }

  getInfo(path: string): Promise<EntryInfo> {
    return this.api.call('statFile', this.id, { query: { path } });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.getInfo(path);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Removes a file or a directory tree. */
  async remove(path: string): Promise<void> {
    await this.api.call('removeFile', this.id, { query: { path } });
  }

  /**
   * Calls `onEvent` for changes under `path` (recursive) until `stop()`. Resolves once the watch
   * is live inside the sandbox: every change made after that is reported.
   *
   * @example
   *   const w = await sbx.files.watch('/work', (e) => console.log(e.type, e.name));
   *   await sbx.files.write('/work/a.txt', 'x'); // reported
   *   w.stop();
   */
  async watch(path: string, onEvent: (e: FilesystemEvent) => void): Promise<WatchHandle> {
    const ac = new AbortController();
    const it = this.api.ndjson<WatchEventView | { type: 'error'; code: string; message: string }>('GET', routePath('watchFiles', this.id), { query: { path }, signal: ac.signal });
    const next = async () => {
      const r = await it.next();
      if (!r.done && r.value.type === 'error') throw errorFromBody(0, r.value);
      return r;
    };
    const first = await next().catch((err: unknown) => { ac.abort(); throw err; });
    if (first.done || first.value.type !== 'start') {
      ac.abort();
      throw new AgentboxSdkError('unavailable', `the watch of ${path} ended before it was live (the sandbox may have been paused or killed)`);
    }
    const done = (async () => {
      try {
        for (let r = await next(); !r.done; r = await next()) {
          if (r.value.type !== 'start' && r.value.type !== 'error') onEvent(r.value);
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    })();
    done.catch(() => undefined);
    return { stop: () => ac.abort(), done };
  }
}
