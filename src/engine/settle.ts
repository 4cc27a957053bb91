/**
 * Promise.all that waits for every step to end before it rejects with the first failure, so
 * the cleanup that follows a failure never races a step still in flight (a namespace being
 * made while the teardown deletes it would outlive both).
 */
export async function allSettled<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
