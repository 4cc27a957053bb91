// The one writer of the /status subresource for the reconcilers: a merge patch, skipped when
// nothing changed, with the fields that disappeared sent as null (a merge patch keeps what it
// does not mention). An object deleted meanwhile is not an error: its watch event ends the work.
import type { KubeObject } from '../api/k8s/types.ts';
import { isConflict, isNotFound, type KubeClient, type ResourceType } from './client.ts';
import { canonicalJson } from './hash.ts';

export type StatusWrite<T> =
  | { outcome: 'written'; updated: T }
  | { outcome: 'unchanged' | 'gone' }
  /** Only with `lock`: the object changed since it was read; the caller decides when to look again. */
  | { outcome: 'conflict' };

export interface StatusWriteOptions {
  /** Carry the read's resourceVersion, so a status computed from a stale object is refused. */
  lock?: boolean;
}

export async function writeStatus<S extends object, T extends KubeObject & { status?: S }>(
  client: KubeClient, rt: ResourceType, obj: T, next: S, opts: StatusWriteOptions = {},
): Promise<StatusWrite<T>> {
  const prev: object = obj.status ?? {};
  if (canonicalJson(prev) === canonicalJson(next)) return { outcome: 'unchanged' };
  const status: Record<string, unknown> = { ...next as Record<string, unknown> };
  for (const k of Object.keys(prev)) if (!(k in next)) status[k] = null;
  const patch = opts.lock ? { metadata: { resourceVersion: obj.metadata.resourceVersion }, status } : { status };
  try {
    return { outcome: 'written', updated: await client.patch<T>(rt, obj.metadata.namespace, obj.metadata.name!, patch, 'merge', 'status') };
  } catch (e) {
    if (isNotFound(e)) return { outcome: 'gone' };
    if (opts.lock && isConflict(e)) return { outcome: 'conflict' };
    throw e;
  }
}
