// Expiry of Sandboxes and claims, pure: time is a parameter, so reconcilers and tests share it
// without a clock. The arithmetic itself is the server's too (src/api/expiry.ts); this module
// reads the Kubernetes fields and speaks Date, as the reconcilers do.
import { deadlineAfter, earliest, isPast, recheckDelay } from '../api/expiry.ts';
import type { ClaimLifecycle, Condition } from '../api/k8s/types.ts';

/** Minimum requeue for a not-yet-expired object (avoids hot loops near the deadline). */
export const MIN_EXPIRY_REQUEUE_MS = 2000;

/** When a Sandbox expires (its shutdownTime), or null. */
export function sandboxExpiry(shutdownTime: string | undefined): Date | null {
  return shutdownTime ? new Date(shutdownTime) : null;
}

/** A claim expires at the earliest of shutdownTime and Finished + ttlSecondsAfterFinished. */
export function claimExpiry(lifecycle: ClaimLifecycle | undefined, finished: Condition | undefined): Date | null {
  const candidates: number[] = [];
  if (lifecycle?.shutdownTime) candidates.push(Date.parse(lifecycle.shutdownTime));
  if (lifecycle?.ttlSecondsAfterFinished !== undefined && finished?.status === 'True') {
    candidates.push(deadlineAfter(Date.parse(finished.lastTransitionTime), lifecycle.ttlSecondsAfterFinished));
  }
  const at = earliest(candidates);
  return at === null ? null : new Date(at);
}

export type ExpiryState = { expired: true } | { expired: false; requeueMs: number | null };

export function expiryState(at: Date | null, now: Date): ExpiryState {
  if (!at) return { expired: false, requeueMs: null };
  if (isPast(at.getTime(), now.getTime())) return { expired: true };
  return { expired: false, requeueMs: recheckDelay(at.getTime(), now.getTime(), MIN_EXPIRY_REQUEUE_MS) };
}
