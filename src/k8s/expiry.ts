// Expiry arithmetic, pure: time is a parameter, so reconcilers and tests share it without a clock.
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
    candidates.push(Date.parse(finished.lastTransitionTime) + lifecycle.ttlSecondsAfterFinished * 1000);
  }
  return candidates.length ? new Date(Math.min(...candidates)) : null;
}

export type ExpiryState = { expired: true } | { expired: false; requeueMs: number | null };

export function expiryState(at: Date | null, now: Date): ExpiryState {
  if (!at) return { expired: false, requeueMs: null };
  const remaining = at.getTime() - now.getTime();
  if (remaining <= 0) return { expired: true };
  return { expired: false, requeueMs: Math.max(remaining, MIN_EXPIRY_REQUEUE_MS) };
}
