/**
 * Addresses learnt from DNS answers, kept in step with the sandboxes' nftables sets without
 * letting a sandbox drive the host: a sandbox looping on `dig` must not fork a process per
 * query.
 *
 * - Dedupe: an address already in the set only gets its expiry moved (in memory); only
 *   addresses not yet in the set cause a write.
 * - Batch: one write at a time for the whole engine; everything queued while it runs goes into
 *   the next one.
 * - Rate limit: each set (one per sandbox) may ask for LEARN_BURST writes at once and
 *   LEARN_PER_SECOND after that; beyond, `learn` answers false and nothing is written (the DNS
 *   proxy then answers SERVFAIL, so the client retries later).
 * - Expiry is ours, not the kernel's (nftables cannot move an element's timeout on the kernels
 *   agentbox supports): a sweep removes expired addresses in one write per SWEEP_MS.
 */

/** Writes a sandbox may cause at once, and per second after that. */
export const LEARN_BURST = 20;
export const LEARN_PER_SECOND = 2;
/** Addresses one answer may teach, and one set may hold; past that, answers are refused. */
export const MAX_IPS_PER_ANSWER = 16;
export const MAX_IPS_PER_SET = 4096;
const MIN_TTL_S = 30;
const MAX_TTL_S = 86_400;
const SWEEP_MS = 30_000;

/** Set name → addresses to add, and to remove. */
export type LearnBatch = { add: Map<string, string[]>; remove: Map<string, string[]> };

interface Bucket { tokens: number; at: number }
/** An address in a set: when it expires, and the write that put it there. */
interface Entry { expires: number; written: Promise<void> }

export class AddressLearner {
  /** Set → address → entry: what the writes so far put (or are putting) in the sets. */
  private readonly known = new Map<string, Map<string, Entry>>();
  private readonly buckets = new Map<string, Bucket>();
  private pending: LearnBatch = emptyBatch();
  private next?: Promise<void>;
  private current?: Promise<void>;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly write: (batch: LearnBatch) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes `ips` members of `set` for `ttlSeconds`. Resolves true once they are in the set
   * (at once when they already were), false when the set's owner is over its rate or size.
   */
  async learn(set: string, ips: string[], ttlSeconds: number): Promise<boolean> {
    const now = this.now();
    const expires = now + 1000 * Math.max(MIN_TTL_S, Math.min(ttlSeconds, MAX_TTL_S));
    let known = this.known.get(set);
    if (!known) this.known.set(set, (known = new Map()));
    const unique = [...new Set(ips)].slice(0, MAX_IPS_PER_ANSWER);
    const fresh = unique.filter((ip) => !known.has(ip));
    if (fresh.length && (known.size + fresh.length > MAX_IPS_PER_SET || !this.take(set, now))) return false;
    if (fresh.length) {
      this.pending.add.set(set, [...(this.pending.add.get(set) ?? []), ...fresh]);
      const written = this.flush();
      for (const ip of fresh) known.set(ip, { expires, written });
      written.catch(() => {
        // Not in the set after all: the next answer tries again.
        for (const ip of fresh) if (known.get(ip)?.written === written) known.delete(ip);
      });
    }
    const entries = unique.map((ip) => known.get(ip)!);
    for (const e of entries) e.expires = Math.max(e.expires, expires);
    await Promise.all(entries.map((e) => e.written));
    this.startSweeper();
    return true;
  }

  /** The set was flushed or deleted (policy change, sandbox removed): forget what it held. */
  forget(set: string): void {
    this.known.delete(set);
    this.buckets.delete(set);
    this.pending.add.delete(set);
    this.pending.remove.delete(set);
  }

  /** How many addresses `set` holds. */
  size(set: string): number {
    return this.known.get(set)?.size ?? 0;
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private take(set: string, now: number): boolean {
    const b = this.buckets.get(set) ?? { tokens: LEARN_BURST, at: now };
    b.tokens = Math.min(LEARN_BURST, b.tokens + ((now - b.at) / 1000) * LEARN_PER_SECOND);
    b.at = now;
    this.buckets.set(set, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Removes expired addresses, all sets in one write. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const [set, known] of this.known) {
      const expired = [...known].filter(([, e]) => e.expires <= now).map(([ip]) => ip);
      if (expired.length === 0) continue;
      for (const ip of expired) known.delete(ip);
      this.pending.remove.set(set, [...(this.pending.remove.get(set) ?? []), ...expired]);
    }
    if (this.pending.remove.size) await this.flush();
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Resolves when everything queued so far is written; one write runs at a time. */
  private flush(): Promise<void> {
    this.next ??= (async () => {
      await this.current?.catch(() => undefined);
      const batch = this.pending;
      this.pending = emptyBatch();
      this.next = undefined;
      this.current = this.write(batch);
      await this.current;
    })();
    return this.next;
  }
}

const emptyBatch = (): LearnBatch => ({ add: new Map(), remove: new Map() });
