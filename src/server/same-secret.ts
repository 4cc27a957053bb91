/** Secret comparison shared by the backends. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of two secrets (digests, so lengths never differ); absent never matches. */
export function sameSecret(given: string | undefined, want: string | undefined): boolean {
  if (given === undefined || want === undefined) return false;
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(want).digest());
}
