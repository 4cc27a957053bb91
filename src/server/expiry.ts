/**
 * Timeout arithmetic as pure functions of `now` (docs/architecture.md, rule “time is a parameter”): the lifecycle loop, the service and
 * the tests share them, and no test needs a clock. The deadline arithmetic underneath is the
 * operator's too (src/api/expiry.ts).
 */
import { deadlineAfter, isPast, recheckDelay } from '../api/expiry.ts';
import type { OnTimeoutAction, SandboxRecord } from './sandbox-store.ts';

/** When a sandbox whose timer (re)starts at `now` expires. */
export function expiresAt(now: number, timeoutS: number): number {
  return deadlineAfter(now, timeoutS);
}

/** What the lifecycle loop must do to a sandbox at `now`. */
export function expiryAction(rec: Pick<SandboxRecord, 'state' | 'pooled' | 'expiresAt' | 'onTimeout'>, now: number): OnTimeoutAction | 'none' {
  if (rec.pooled || rec.state !== 'running' || rec.expiresAt === null) return 'none';
  return isPast(rec.expiresAt, now) ? rec.onTimeout : 'none';
}

/**
 * After an auto-resume triggered by traffic the sandbox gets at least `minS` seconds (E2B: "at
 * least ~5 min or the original longer timeout"), never less than its own timeout.
 */
export function autoResumeTimeout(timeoutS: number, minS = 300): number {
  return Math.max(timeoutS, minS);
}

/** How long the lifecycle loop may sleep: until the next expiry, bounded to [minMs, maxMs]. */
export function sleepUntil(next: number | undefined, now: number, minMs: number, maxMs: number): number {
  return next === undefined ? maxMs : recheckDelay(next, now, minMs, maxMs);
}
