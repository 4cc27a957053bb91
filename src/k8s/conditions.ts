// Condition list helpers: lastTransitionTime only moves when the status flips, as metav1 expects.
import type { Condition } from '../api/k8s/types.ts';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

export function findCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/** Returns a new list with `next` set, keeping the old transition time when status is unchanged. */
export function setCondition(list: Condition[] | undefined, next: ConditionInput, now: Date): Condition[] {
  const old = findCondition(list, next.type);
  const lastTransitionTime = old && old.status === next.status
    ? old.lastTransitionTime
    : next.lastTransitionTime ?? now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const merged: Condition = { ...next, lastTransitionTime };
  return [...(list ?? []).filter((c) => c.type !== next.type), merged];
}

export function removeCondition(list: Condition[] | undefined, type: string): Condition[] {
  return (list ?? []).filter((c) => c.type !== type);
}

export function isTrue(list: Condition[] | undefined, type: string): boolean {
  return findCondition(list, type)?.status === 'True';
}
