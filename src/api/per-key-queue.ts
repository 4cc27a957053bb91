/**
 * Runs operations on one key (a sandbox id) one after another, and operations on different keys
 * side by side: a pause and a kill of the same sandbox never interleave. Shared by the engine,
 * the server's service and the Kubernetes node agent, which each keep their own queue.
 */
export class PerKeyQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    // The last operation in the chain removes the entry, so the map holds only busy keys.
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return next;
  }
}
