// Observed state of a Sandbox → its status (pure). Condition types and reasons are the published
// vocabulary of src/api/k8s/constants.ts.
import { CONDITION, LABEL, REASON } from '../../api/k8s/constants.ts';
import type { Sandbox, SandboxStatus } from '../../api/k8s/types.ts';
import { removeCondition, setCondition, type ConditionInput } from '../conditions.ts';
import { nameHash } from '../hash.ts';
import type { Pod } from './pod.ts';

export interface Observed {
  sandbox: Sandbox;
  /** The owned pod, or null. */
  pod: Pod | null;
  suspended: boolean;
  /** Suspended mode: a same-named pod exists that we do not own. */
  podNotOwned?: boolean;
  /** Suspended mode: the pod could not be looked up (API error). */
  podLookupFailed?: boolean;
  serviceRequired: boolean;
  serviceName: string | null;
  /** What memory hibernation did this pass (hibernation.ts); the last one is kept otherwise. */
  hibernation?: Omit<ConditionInput, 'observedGeneration'>;
  clusterDomain: string;
  now: Date;
}

const podCond = (pod: Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type);
const podIPs = (pod: Pod | null) =>
  pod ? (pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : [])) : [];

export function computeStatus(o: Observed): SandboxStatus {
  const { sandbox: sb, pod, now } = o;
  const gen = sb.metadata.generation;
  let conds = sb.status?.conditions ?? [];
  const set = (c: Omit<ConditionInput, 'observedGeneration'>) => { conds = setCondition(conds, { ...c, observedGeneration: gen }, now); };

  if (o.suspended) {
    set({ type: CONDITION.ready, status: 'False', reason: REASON.sandboxSuspended,
      message: pod ? 'Sandbox is suspending' : 'Sandbox is suspended' });
    if (o.podLookupFailed) {
      set({ type: CONDITION.suspended, status: 'Unknown', reason: REASON.podStateUnknown, message: 'Pod state could not be determined' });
    } else if (o.podNotOwned) {
      set({ type: CONDITION.suspended, status: 'False', reason: REASON.podNotOwned,
        message: 'A pod with the sandbox name exists but is not owned by it; refusing to delete it' });
    } else if (pod) {
      set({ type: CONDITION.suspended, status: 'False', reason: REASON.podTerminating, message: 'Pod is terminating' });
    } else {
      set({ type: CONDITION.suspended, status: 'True', reason: REASON.podTerminated, message: 'Pod is terminated' });
    }
    conds = removeCondition(conds, CONDITION.podScheduled);
    conds = removeCondition(conds, CONDITION.finished);
  } else {
    set(readyCondition(o));
    set({ type: CONDITION.suspended, status: 'False', reason: REASON.notSuspended, message: 'Sandbox is running' });
    const phase = pod?.status?.phase;
    if (pod && (phase === 'Succeeded' || phase === 'Failed')) {
      const reason = phase === 'Succeeded' ? REASON.podSucceeded : REASON.podFailed;
      set({ type: CONDITION.finished, status: 'True', reason, message: `Pod phase is ${phase}` });
    } else {
      conds = removeCondition(conds, CONDITION.finished);
    }
    const sched = pod ? podCond(pod, 'PodScheduled') : undefined;
    if (!pod) {
      conds = removeCondition(conds, CONDITION.podScheduled);
    } else if (sched) {
      set({ type: CONDITION.podScheduled, status: sched.status as 'True' | 'False' | 'Unknown',
        reason: sched.reason || (sched.status === 'True' ? REASON.podScheduledFallback : REASON.podSchedulingUnknown),
        message: sched.message ?? '' });
    } else {
      set({ type: CONDITION.podScheduled, status: 'Unknown', reason: REASON.podSchedulingUnknown, message: 'Pod has no PodScheduled condition yet' });
    }
  }

  if (o.hibernation) set(o.hibernation);

  const ips = podIPs(pod);
  return {
    ...(o.serviceName ? { service: o.serviceName, serviceFQDN: `${o.serviceName}.${sb.metadata.namespace}.svc.${o.clusterDomain}` } : {}),
    conditions: conds,
    selector: `${LABEL.sandboxNameHash}=${nameHash(sb.metadata.name!)}`,
    ...(ips.length ? { podIPs: ips } : {}),
    ...(pod?.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
  };
}

function readyCondition(o: Observed): Omit<ConditionInput, 'observedGeneration'> {
  const { pod } = o;
  const notReady = (message: string) => ({ type: CONDITION.ready, status: 'False' as const, reason: REASON.dependenciesNotReady, message });
  const svcMissing = o.serviceRequired && !o.serviceName ? '; Service does not exist' : '';
  if (!pod) return notReady(`Pod does not exist${svcMissing}`);
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Succeeded') return { type: CONDITION.ready, status: 'False', reason: REASON.podSucceeded, message: 'Pod has succeeded' };
  if (phase === 'Failed') return { type: CONDITION.ready, status: 'False', reason: REASON.podFailed, message: 'Pod has failed' };
  if (phase !== 'Running') return notReady(`Pod exists with phase: ${phase}${svcMissing}`);
  if (podCond(pod, 'Ready')?.status !== 'True') return notReady(`Pod is Running but not Ready${svcMissing}`);
  if (podIPs(pod).length === 0) return notReady(`Pod is Ready but has no podIPs yet${svcMissing}`);
  if (svcMissing) return notReady(`Pod is Ready${svcMissing}`);
  return { type: CONDITION.ready, status: 'True', reason: REASON.dependenciesReady,
    message: o.serviceName ? 'Pod is Ready; Service Exists' : 'Pod is Ready' };
}
