// Auto-suspend on idle (docs/kubernetes-hibernation.md): a Sandbox annotated
// `agentbox.dev/suspend-after-idle: "<seconds>"` is suspended by the operator once that long has
// passed both since it last became Ready and since the router last saw traffic for it
// (`agentbox.dev/last-activity`, kept current by the router while requests or connections are
// open: src/k8s/router/activity.ts). With memory hibernation the suspend keeps its processes;
// the router resumes it when a request arrives (src/k8s/router/wake.ts).
import { AgentboxError } from '../../api/errors.ts';
import { ANNOTATION } from '../../api/k8s/constants.ts';
import type { Sandbox } from '../../api/k8s/types.ts';

/** One day: longer than any idle time worth a suspend, and short of overflowing a timer. */
const MAX_IDLE_SECONDS = 86_400;

/** The Sandbox's idle limit in seconds; null without the annotation; an error (returned, for an event) for a value that is not one. */
export function suspendAfterIdle(sb: Sandbox): number | null | AgentboxError {
  const raw = sb.metadata.annotations?.[ANNOTATION.suspendAfterIdle];
  if (raw === undefined) return null;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_IDLE_SECONDS) {
    return new AgentboxError('invalid_argument', `${ANNOTATION.suspendAfterIdle} is ${JSON.stringify(raw)}: give whole seconds from 1 to ${MAX_IDLE_SECONDS}`);
  }
  return n;
}

/** Whether a request that finds `sb` suspended or starting should resume it and wait (the router). */
export const wakesOnTraffic = (sb: Sandbox) => typeof suspendAfterIdle(sb) === 'number';

export type IdleDecision = { suspend: true; idleMs: number } | { suspend: false; checkAgainMs?: number };

/**
 * For a running, Ready Sandbox: suspend now, or when to look again. `readySince` is when its Ready
 * condition last turned True; the later of it and the last activity starts the idle time.
 */
export function idleDecision(sb: Sandbox, readySince: Date | undefined, now: Date): IdleDecision {
  const limit = suspendAfterIdle(sb);
  if (typeof limit !== 'number' || !readySince) return { suspend: false };
  const activity = Date.parse(sb.metadata.annotations?.[ANNOTATION.lastActivity] ?? '');
  const since = Math.max(readySince.getTime(), Number.isNaN(activity) ? 0 : activity);
  const idleMs = now.getTime() - since;
  return idleMs >= limit * 1000 ? { suspend: true, idleMs } : { suspend: false, checkAgainMs: limit * 1000 - idleMs };
}
