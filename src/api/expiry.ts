/**
 * Deadline arithmetic in epoch milliseconds, pure (docs/architecture.md, rule “time is a parameter”, time is a parameter): the server's
 * sandbox timeouts (src/server/expiry.ts) and the operator's Sandbox and claim expiry
 * (src/k8s/expiry.ts) both build on it, so "expired" and "how long to wait" mean the same in both.
 */

/** The deadline `seconds` after `startMs`. */
export function deadlineAfter(startMs: number, seconds: number): number {
  return startMs + seconds * 1000;
}

/** A deadline is past from the very millisecond it names. */
export function isPast(deadlineMs: number, nowMs: number): boolean {
  return deadlineMs <= nowMs;
}

/** The earliest of the given deadlines, or null when there is none. */
export function earliest(deadlinesMs: readonly number[]): number | null {
  return deadlinesMs.length ? Math.min(...deadlinesMs) : null;
}

/**
 * How long to wait before looking at a deadline again: the time left, at least `minMs` (no hot
 * loop near the deadline) and at most `maxMs`.
 */
export function recheckDelay(deadlineMs: number, nowMs: number, minMs: number, maxMs = Infinity): number {
  return Math.min(maxMs, Math.max(minMs, deadlineMs - nowMs));
}
