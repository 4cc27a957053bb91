// Work queue with per-key serialisation: a key is never processed by two workers at once; a key
// added while it is being processed is processed once more afterwards (coalesced, not stacked).
// Bounded: pending work is a set of distinct keys (at most `maxPending`; beyond it adds are
// dropped and counted, and the periodic informer resync brings the key back).

export interface QueueOptions {
  workers: number;
  maxPending?: number;
  /** Called for each key; a thrown error requeues the key with exponential backoff. */
  handler: (key: string) => Promise<{ requeueAfterMs?: number } | void>;
  onError?: (key: string, err: unknown) => void;
}

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly failures = new Map<string, number>();
  private running = 0;
  private stopped = false;
  /**
   * Keys are collected but not processed until `start()`: a controller must not act before
   * every informer it reads has listed (a pool reconciled against an empty Sandbox cache would
   * create members it already has).
   */
  private started = false;
  private idleWaiters: (() => void)[] = [];
  dropped = 0;

  constructor(private readonly opts: QueueOptions) {}

  get depth(): number {
    return this.pending.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) { this.dirty.add(key); return; }
    if (this.pending.has(key)) return;
    if (this.pending.size >= (this.opts.maxPending ?? 10000)) { this.dropped++; return; }
    this.pending.add(key);
    this.order.push(key);
    this.pump();
  }

  /** Adds `key` after `ms`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) { this.add(key); return; }
    const due = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => { this.timers.delete(key); this.add(key); }, ms);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.pending.clear();
    this.order.length = 0;
  }

  /** Resolves once nothing is pending or running (tests). */
  idle(): Promise<void> {
    if (this.running === 0 && this.pending.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Begins processing; keys added before are kept. */
  start(): void {
    this.started = true;
    this.pump();
  }

  private pump(): void {
    if (!this.started) return;
    while (!this.stopped && this.running < this.opts.workers && this.order.length > 0) {
      const key = this.order.shift()!;
      this.pending.delete(key);
      this.active.add(key);
      this.running++;
      void this.process(key);
    }
    if (this.running === 0 && this.pending.size === 0) {
      const w = this.idleWaiters; this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private async process(key: string): Promise<void> {
    try {
      const res = await this.opts.handler(key);
      this.failures.delete(key);
      if (res?.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
    } catch (e) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.opts.onError?.(key, e);
      this.addAfter(key, Math.min(5 * 2 ** n, 30_000));
    } finally {
      this.active.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
