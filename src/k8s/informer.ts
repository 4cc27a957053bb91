// List+watch cache for one resource type. Handlers run synchronously on each change and on every
// resync (a periodic "update" of every cached object, so a missed event never strands an object).
import type { KubeObject } from '../api/k8s/types.ts';
import { KubeApiError, type KubeClient, type ResourceType, type WatchEvent } from './client.ts';

export type InformerHandler<T> = (type: 'add' | 'update' | 'delete', obj: T, old?: T) => void;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Period of the full resync; 0 disables it. */
  resyncMs?: number;
  onError?: (err: unknown) => void;
}

export const objectKey = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly abort = new AbortController();
  private synced!: Promise<void>;
  private loop?: Promise<void>;
  private resyncTimer?: NodeJS.Timeout;

  constructor(private readonly client: KubeClient, readonly rt: ResourceType, private readonly opts: InformerOptions = {}) {}

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts list+watch; resolves once the first list is in the cache. */
  start(): Promise<void> {
    let markSynced!: () => void;
    this.synced = new Promise((r) => { markSynced = r; });
    this.loop = this.run(markSynced);
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => { for (const o of this.store.values()) this.emit('update', o, o); }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
    return this.synced;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.loop;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(`${namespace ?? ''}/${name}`);
  }

  list(filter?: (o: T) => boolean, namespace?: string): T[] {
    const out: T[] = [];
    for (const o of this.store.values()) {
      if (namespace !== undefined && o.metadata.namespace !== namespace) continue;
      if (!filter || filter(o)) out.push(o);
    }
    return out;
  }

  /** Records an object we just wrote, so the next reconcile does not act on a stale copy. */
  observe(obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (old && rvNewer(old, obj)) return;
    this.store.set(key, obj);
  }

  private emit(type: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try { h(type, obj, old); } catch (e) { this.opts.onError?.(e); }
    }
  }

  private async run(markSynced: () => void): Promise<void> {
    const signal = this.abort.signal;
    let backoff = 100;
    while (!signal.aborted) {
      try {
        const list = await this.client.list<T>(this.rt, this.opts.namespace, { labelSelector: this.opts.labelSelector });
        this.replace(list.items);
        markSynced();
        backoff = 100;
        let rv = list.metadata.resourceVersion;
        // Watch until the server closes the stream, then resume from the last version seen;
        // relist only on 410 Gone or an error.
        for (;;) {
          let gone = false;
          await this.client.watch<T>(this.rt, this.opts.namespace, rv, (ev: WatchEvent<T>) => {
            if (ev.type === 'ERROR') { gone = true; return; }
            if (ev.object.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
            if (ev.type === 'BOOKMARK') return;
            this.apply(ev);
          }, signal, { labelSelector: this.opts.labelSelector });
          if (gone || signal.aborted) break;
        }
      } catch (e) {
        if (signal.aborted) break;
        if (!(e instanceof KubeApiError && e.status === 410)) this.opts.onError?.(e);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private apply(ev: WatchEvent<T>): void {
    const key = objectKey(ev.object);
    const old = this.store.get(key);
    if (ev.type === 'DELETED') {
      this.store.delete(key);
      this.emit('delete', ev.object, old);
      return;
    }
    // An event older than the copy we hold: one we observe()d after writing it, before the watch
    // delivered the writes that came first. Taking the event would hand the next reconcile a stale
    // status to compute from, whose merge patch then undoes our write; the event of our own write
    // follows and updates the cache.
    if (old && rvNewer(old, ev.object)) return;
    this.store.set(key, ev.object);
    this.emit(old ? 'update' : 'add', ev.object, old);
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      this.emit(old ? 'update' : 'add', item, old);
    }
    for (const [key, old] of this.store) {
      if (!seen.has(key)) { this.store.delete(key); this.emit('delete', old, old); }
    }
  }
}

function rvNewer(a: KubeObject, b: KubeObject): boolean {
  const x = Number(a.metadata.resourceVersion), y = Number(b.metadata.resourceVersion);
  return Number.isFinite(x) && Number.isFinite(y) && x > y;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
  });
}
