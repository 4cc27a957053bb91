/**
 * A SandboxClaim made by agentbox ⇄ the backend's SandboxDetail: what a claim carries (pure, so
 * any replica derives the same view from the same object, and tests need no cluster).
 */
import { ANNOTATION, CONDITION } from '../api/k8s/constants.ts';
import type { SandboxClaim } from '../api/k8s/types.ts';
import type { RecordState } from '../server/sandbox-store.ts';
import type { SandboxDetail } from '../server/backend.ts';
import { ENVD_VERSION } from '../guest/version.ts';
import { CLUSTER_ANNOTATION, CLUSTER_LABEL } from './labels.ts';
import type { ClaimVolume } from './volumes.ts';

/** The instant of a claim's shutdownTime for `timeoutS` from `nowMs`: RFC 3339, whole seconds (metav1.Time). */
export function shutdownTimeAfter(nowMs: number, timeoutS: number): string {
  return new Date(Math.ceil(nowMs / 1000) * 1000 + timeoutS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The Sandbox a claim is bound to, once the operator has bound it. */
export const boundSandboxOf = (c: SandboxClaim): string | undefined => c.status?.sandbox?.name || undefined;

/** Whether the sandbox pauses by suspending its Sandbox (docs/kubernetes.md, "Filesystem pause"). */
export const pausesFilesystem = (c: SandboxClaim) => c.metadata.annotations?.[CLUSTER_ANNOTATION.onTimeout] === 'pause_filesystem';

/** paused: its Sandbox is suspended; running: Ready; failed: a terminal reason (expired, pod failed…); else creating. */
export function claimState(c: SandboxClaim, suspended = false): RecordState {
  if (suspended) return 'paused';
  const ready = c.status?.conditions?.find((x) => x.type === CONDITION.ready);
  if (ready?.status === 'True' && boundSandboxOf(c)) return 'running';
  if (ready && ready.status === 'False' && /Expired|Failed|Succeeded|Missing/.test(ready.reason ?? '')) return 'failed';
  return 'creating';
}

export function claimMetadata(c: SandboxClaim): Record<string, string> {
  try {
    const m = JSON.parse(c.metadata.annotations?.[CLUSTER_ANNOTATION.metadata] ?? '{}') as unknown;
    return m && typeof m === 'object' && !Array.isArray(m) ? m as Record<string, string> : {};
  } catch {
    return {};
  }
}

/** The volumes the claim's pod mounts, as the server wrote them at create (cluster/volumes.ts). */
export function claimVolumes(c: SandboxClaim): ClaimVolume[] {
  const raw = c.metadata.annotations?.[ANNOTATION.volumeMounts];
  if (!raw) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v as ClaimVolume[] : [];
  } catch {
    return [];
  }
}

/** The backend's view of a claim; `accessToken` is the guest's, once its Secret exists. */
export function claimDetail(c: SandboxClaim, accessToken: string | undefined, suspended = false): SandboxDetail {
  const state = claimState(c, suspended);
  const d: SandboxDetail = {
    id: c.metadata.name!,
    template: c.metadata.labels?.[CLUSTER_LABEL.template] ?? '',
    runtime: 'gvisor',
    state,
    metadata: claimMetadata(c),
    createdAt: c.metadata.creationTimestamp ?? new Date(0).toISOString(),
    timeoutSeconds: Number(c.metadata.annotations?.[CLUSTER_ANNOTATION.timeoutSeconds] ?? 0),
    onTimeout: pausesFilesystem(c) ? 'pause_filesystem' : 'kill',
    autoResume: false,
    // Resources are the SandboxTemplate's pod spec's business on Kubernetes, not the claim's.
    cpu: 0,
    memoryMiB: 0,
    // A cold start makes a Sandbox named after the claim; a pool member keeps its own name.
    fromPool: !!boundSandboxOf(c) && boundSandboxOf(c) !== c.metadata.name,
    volumeMounts: claimVolumes(c).map(({ name, path }) => ({ name, path })),
  };
  const expiry = pausesFilesystem(c) ? c.metadata.annotations?.[CLUSTER_ANNOTATION.expiresAt] : c.spec.lifecycle?.shutdownTime;
  if (expiry && state !== 'paused') d.expiresAt = new Date(expiry).toISOString();
  const ready = c.status?.conditions?.find((x) => x.type === CONDITION.ready);
  if (state === 'failed' && ready?.message) d.error = ready.message;
  if (accessToken && state === 'running') d.guest = { envdVersion: ENVD_VERSION, accessToken };
  return d;
}
