/**
 * Whether V8's memory reducer has finished with the guest's heap, for GET /heap-settled: a golden
 * snapshot's builder (src/engine/golden-boot.ts) waits for it before its checkpoint.
 *
 * Why it matters: once the heap has grown after start-up, V8 schedules its memory reducer 8 s
 * later; it then collects up to three times, 0.5 s apart, to give memory back, and when a
 * collection is due but the allocation rate looks high it waits another 8 s instead (V8's
 * src/heap/memory-reducer.cc, `MemoryReducer::Step`). A checkpoint taken while it waits keeps
 * the pending timer, and since a restored copy's clocks read the time of its restore, every copy
 * of that snapshot collects as it starts, tens of milliseconds of its first request (BENCHMARKS.md,
 * twentieth round). The guest cannot ask V8 for the reducer's state, but it sees the reducer's
 * collections: full collections with V8's "all external memory" flag, which nothing else in the
 * guest asks for.
 */
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import type { HeapSettledStatus } from '../api/envd-protocol.ts';

/** The most collections one run of the reducer makes (V8's `kMaxNumberOfGCs`). */
const REDUCER_MAX_COLLECTIONS = 3;

/**
 * Longer than V8 waits between two collections of one run (500 ms and 100 ms of slack), with
 * room for a loaded machine: a run that has made this long a pause is over.
 */
const REDUCER_PAUSE_MS = 1500;

/**
 * The reducer's first collection is always followed by a second (or by 8 s waits for one while
 * the allocation rate looks high), and after the second it stops unless that one found much to
 * free; so it is done after its third, or after its second and a pause.
 */
export function reducerDone(collections: number, msSinceLast: number): boolean {
  return collections >= REDUCER_MAX_COLLECTIONS || (collections >= 2 && msSinceLast >= REDUCER_PAUSE_MS);
}

/** A 'gc' entry's detail (Node's perf_hooks documentation, "Garbage Collection ('gc') Details"). */
interface GcEntry extends PerformanceEntry {
  detail: { kind: number; flags: number };
}

function isReducerCollection(entry: PerformanceEntry): boolean {
  const { kind, flags } = (entry as GcEntry).detail;
  return kind === constants.NODE_PERFORMANCE_GC_MAJOR && (flags & constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY) !== 0;
}

/** Counts the memory reducer's collections from the guest's start; one per guest. */
export class HeapSettle {
  private collections = 0;
  private lastEnd?: number;
  /** Waiting `until` calls, woken at each of the reducer's collections. */
  private readonly waiting = new Set<() => void>();
  /** `until` calls under way: V8 favours memory while there is one. */
  private callers = 0;

  constructor() {
    new PerformanceObserver((list) => {
      const seen = list.getEntries().filter(isReducerCollection);
      if (seen.length === 0) return;
      this.collections += seen.length;
      const last = seen[seen.length - 1]!;
      this.lastEnd = last.startTime + last.duration;
      for (const wake of this.waiting) wake();
    }).observe({ entryTypes: ['gc'] });
  }

  status(): HeapSettledStatus {
    const since = this.lastEnd === undefined ? undefined : performance.now() - this.lastEnd;
    return {
      settled: reducerDone(this.collections, since ?? 0),
      reducerCollections: this.collections,
      ...(since === undefined ? {} : { msSinceReducerCollection: Math.round(since) }),
    };
  }

  /**
   * The status once settled, or after `timeoutMs` whatever it is. While anyone waits, V8 favours
   * memory over speed (`--optimize-for-size`), so the reducer collects as soon as it is due: it
   * otherwise puts a collection off by 8 s whenever the allocation rate it measured since the
   * guest's start looks high, and on a loaded host it did so for 30 s and more. The flag is off
   * again once nobody waits, before any checkpoint, so no copy keeps it; a caller that need not
   * wait (settled already, or `timeoutMs` 0) gets the status without it being turned on at all.
   */
  async until(timeoutMs: number): Promise<HeapSettledStatus> {
    const now = this.status();
    if (now.settled || timeoutMs <= 0) return now;
    const deadline = performance.now() + timeoutMs;
    if (this.callers++ === 0) setFlagsFromString('--optimize-for-size');
    try {
      for (;;) {
        const s = this.status();
        const left = deadline - performance.now();
        if (s.settled || left <= 0) return s;
        // Looks again at the reducer's next collection, when a pause after its second would be
        // long enough, or at the deadline.
        const pauseLeft = s.reducerCollections >= 2 ? REDUCER_PAUSE_MS - (s.msSinceReducerCollection ?? 0) : left;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.waiting.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.max(1, Math.min(left, pauseLeft)));
          this.waiting.add(wake);
        });
      }
    } finally {
      if (--this.callers === 0) setFlagsFromString('--no-optimize-for-size');
    }
  }
}
