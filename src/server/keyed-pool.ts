/**
 * Connection pools keyed by sandbox. Sandbox addresses are reused as soon as a sandbox is gone,
 * so one shared keep-alive pool would hand a new sandbox a socket that belonged to the old one
 * at the same address (seen as "fetch failed" right after a kill and a create). One pool per
 * sandbox closes that; the least recently used pools are closed past `max`.
 */
export class KeyedPool<T> {
  private readonly pools = new Map<string, T>();

  constructor(private readonly max: number, private readonly create: (key: string) => T, private readonly dispose: (pool: T) => void) {}

  get(key: string): T {
    let pool = this.pools.get(key);
    if (pool) {
      this.pools.delete(key);
    } else {
      pool = this.create(key);
      if (this.pools.size >= this.max) {
        const [oldest, old] = this.pools.entries().next().value as [string, T];
        this.pools.delete(oldest);
        this.dispose(old);
      }
    }
    this.pools.set(key, pool);
    return pool;
  }

  /** Closes and drops one key's pool (its sockets may be dead, e.g. after a checkpoint). */
  forget(key: string): void {
    const pool = this.pools.get(key);
    if (!pool) return;
    this.pools.delete(key);
    this.dispose(pool);
  }

  /** Closes and drops the pools of every key `matches` accepts. */
  forgetWhere(matches: (key: string) => boolean): void {
    for (const key of [...this.pools.keys()]) if (matches(key)) this.forget(key);
  }

  close(): void {
    for (const p of this.pools.values()) this.dispose(p);
    this.pools.clear();
  }
}
