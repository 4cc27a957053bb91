/**
 * Shared tail of the guest's server streams (Start, Connect, WatchDir): merges pushed events
 * with keepalive frames and ends when the source says so or the call is aborted.
 */
import type { HandlerContext } from '@connectrpc/connect';

/** envd's default when the client sends no Keepalive-Ping-Interval (docs/e2b.md, the guest protocol). */
const DEFAULT_KEEPALIVE_S = 90;

/** Keepalive interval in ms from the `Keepalive-Ping-Interval` header (seconds). */
export function keepaliveMs(ctx: HandlerContext): number {
  const raw = Number(ctx.requestHeader.get('keepalive-ping-interval'));
  return (Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_KEEPALIVE_S) * 1000;
}

export interface StreamSource<T> {
  /** Starts delivering; `push(item, true)` marks the last item. Returns the unsubscribe. */
  subscribe(push: (item: T, last?: boolean) => void): () => void;
  keepalive(): T;
  keepaliveMs: number;
  signal: AbortSignal;
  /** Asks the source to stop producing while the queue is long (the client reads slowly). */
  hold?(): void;
  release?(): void;
}

/** Queued frames at which the source is held back, and at which it is let go again. */
const HIGH_WATER = 64;
const LOW_WATER = 16;

/**
 * Yields pushed items in order, a keepalive after `keepaliveMs` without other frames, and
 * returns after the last item; throws the abort reason when `signal` aborts (client gone or deadline).
 */
export async function* eventStream<T>(src: StreamSource<T>): AsyncGenerator<T> {
  const queue: { item: T; last: boolean }[] = [];
  let wake: (() => void) | undefined;
  let held = false;
  const poke = () => { const w = wake; wake = undefined; w?.(); };
  const unsubscribe = src.subscribe((item, last = false) => {
    queue.push({ item, last });
    if (!held && queue.length >= HIGH_WATER) { held = true; src.hold?.(); }
    poke();
  });
  src.signal.addEventListener('abort', poke);
  try {
    for (;;) {
      // Ending with the abort reason (deadline_exceeded, canceled) instead of a clean return, so
      // a timed-out call never reads as a stream that simply finished.
      if (src.signal.aborted) throw src.signal.reason;
      const next = queue.shift();
      if (held && queue.length <= LOW_WATER) { held = false; src.release?.(); }
      if (next) {
        yield next.item;
        if (next.last) return;
        continue;
      }
      let timedOut = false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { timedOut = true; resolve(); }, src.keepaliveMs);
        wake = () => { clearTimeout(timer); resolve(); };
      });
      if (timedOut && queue.length === 0 && !src.signal.aborted) yield src.keepalive();
    }
  } finally {
    if (held) src.release?.();
    wake = undefined;
    src.signal.removeEventListener('abort', poke);
    unsubscribe();
  }
}
