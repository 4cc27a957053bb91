/**
 * How a test treats a component it cannot start. In CI (CI=true) every suite the README claims
 * must run, so the missing component is a failure with its reason; elsewhere the suite skips and
 * the reason says what is missing and how to get it. scripts/run-tests.mjs also fails a CI run
 * on any skip not on its allow-list, so a skip path cannot turn a broken suite green.
 */
export const inCI = /^(1|true)$/i.test(process.env.CI ?? '');

/** Outside CI: the skip reason (`what` is missing; `how` gets it). In CI: throws it. */
export function skipOutsideCI(what: string, how: string): string {
  const reason = `${what} (${how})`;
  if (inCI) throw new Error(`CI must run this suite, but ${reason}`);
  return reason;
}
