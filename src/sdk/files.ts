/** `sbx.files`: content and directories inside a sandbox, through the server's files routes. */
import type { FileEntryView, WatchChangeView, WatchEventView } from '../api/native.ts';
import { routePath, type ApiClient } from './api-client.ts';
import { AgentboxSdkError, errorFromBody, NotFoundError } from './errors.ts';

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
   * @example
   *   const text = await sbx.files.read('/etc/hostname');
   *   const bytes = await sbx.files.read('/bin/sh', { format: 'bytes' });
   */
  read(path: string, opts?: { format?: 'text' }): Promise<string>;
  read(path: string, opts: { format: 'bytes' }): Promise<Uint8Array>;
  async read(path: string, opts: { format?: 'text' | 'bytes' } = {}): Promise<string | Uint8Array> {
    const res = await this.api.request('GET', routePath('readFile', this.id), { query: { path } });
    const buf = new Uint8Array(await res.arrayBuffer());
    return opts.format === 'bytes' ? buf : new TextDecoder().decode(buf);
  }

  /** Writes a file, creating parent directories; acknowledged writes survive a server crash. */
  write(path: string, data: string | Uint8Array): Promise<EntryInfo> {
    return this.api.call('writeFile', this.id, { query: { path }, body: data });
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
