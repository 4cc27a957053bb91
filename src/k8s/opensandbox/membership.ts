// Who belongs to an OpenSandbox Pool, read from agentbox's objects: its idle members are the
// Sandboxes of the SandboxWarmPool of its name; its allocated ones, the claims bound from that pool.
import { ANNOTATION, CONDITION } from '../../api/k8s/constants.ts';
import type { Condition, Sandbox, SandboxClaim, SandboxWarmPool } from '../../api/k8s/types.ts';
import { isTrue } from '../conditions.ts';
import type { Informer } from '../informer.ts';
import { isControlledBy } from '../ownership.ts';

/** The sandbox a claim is bound to: set before adoption completes, so a pick is counted at once. */
export const boundTo = (c: SandboxClaim): string | undefined =>
  c.metadata.annotations?.[ANNOTATION.sandboxName] || c.status?.sandbox?.name || undefined;

export const isReady = (o: { status?: { conditions?: Condition[] } }) => isTrue(o.status?.conditions, CONDITION.ready);

/** Live claims against the warm pool `pool`, bound or not. */
export function claimsOf(claims: Informer<SandboxClaim>, namespace: string, pool: string): SandboxClaim[] {
  return claims.list((c) => c.spec.warmPoolRef?.name === pool && !c.metadata.deletionTimestamp, namespace);
}

/** Live idle members of a warm pool. */
export function idleMembers(sandboxes: Informer<Sandbox>, wp: SandboxWarmPool): Sandbox[] {
  return sandboxes.list((sb) => isControlledBy(sb, wp) && !sb.metadata.deletionTimestamp, wp.metadata.namespace);
}
