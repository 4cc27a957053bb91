// A token bucket: at most `burst` actions at once, refilled at `perSecond`. Time is a parameter,
// so the arithmetic is tested without clocks. perSecond <= 0 means no limit.

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly perSecond: number, private readonly burst: number, nowMs: number) {
    this.tokens = burst;
    this.at = nowMs;
  }

  private refill(nowMs: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.at) / 1000) * this.perSecond);
    this.at = nowMs;
  }

  /** Takes up to `want` whole tokens; returns how many were granted. */
  take(want: number, nowMs: number): number {
    if (this.perSecond <= 0) return want;
    this.refill(nowMs);
    const granted = Math.max(0, Math.min(want, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until the next whole token (0 when one is there). */
  msUntilNext(nowMs: number): number {
    if (this.perSecond <= 0) return 0;
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }
}
