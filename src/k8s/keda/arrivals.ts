// Claim arrivals per warm pool over a sliding window: what "claims per second" is computed from.
// A claim counts once by uid (an informer re-list announces it again), and by its creation time,
// so an operator that starts late still sees the claims created within the window. Time is a
// parameter (docs/architecture.md, "Time is a parameter").

export class ArrivalLog {
  /** Creation time (ms) per claim uid, per pool key. */
  private readonly byPool = new Map<string, Map<string, number>>();

  /** @param retainMs how long an arrival is kept: the longest window anyone may ask about. */
  constructor(private readonly retainMs: number) {}

  record(pool: string, uid: string, atMs: number, nowMs: number): void {
    if (atMs <= nowMs - this.retainMs) return;
    let byUid = this.byPool.get(pool);
    if (!byUid) this.byPool.set(pool, (byUid = new Map()));
    byUid.set(uid, atMs);
  }

  /** Arrivals for `pool` within the last `windowMs`; forgets those older than the retention. */
  count(pool: string, windowMs: number, nowMs: number): number {
    this.prune(nowMs);
    const since = nowMs - Math.min(windowMs, this.retainMs);
    let n = 0;
    for (const at of this.byPool.get(pool)?.values() ?? []) if (at > since) n++;
    return n;
  }

  private prune(nowMs: number): void {
    const oldest = nowMs - this.retainMs;
    for (const [pool, byUid] of this.byPool) {
      for (const [uid, at] of byUid) if (at <= oldest) byUid.delete(uid);
      if (byUid.size === 0) this.byPool.delete(pool);
    }
  }
}
