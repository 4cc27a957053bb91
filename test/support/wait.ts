/**
 * The one way a test waits for something to become true: poll a condition, and when it never
 * holds, fail with what was waited for (and the last error the condition threw). Fixed sleeps
 * that wait for behaviour flake on a loaded machine; a condition waits exactly as long as needed.
 */

/**
 * Polls `fn` every `everyMs` until it returns a value other than null/undefined/false and
 * resolves with that value; a throw from `fn` counts as "not yet". After `timeoutMs` it throws
 * "timed out after … waiting for <what>".
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
