// Desired Pod of a Sandbox, and the metadata-only patch that keeps a live Pod's labels in sync.
// Pod spec drift is never reconciled: a running agent's pod is not restarted behind its back.
import { ANNOTATION, KIND, LABEL } from '../../api/k8s/constants.ts';
import type { KubeObject, PodSpec, Sandbox, Volume } from '../../api/k8s/types.ts';
import { nameHash } from '../hash.ts';
import { controllerRef } from '../ownership.ts';
import { sortedKeys, splitKeys, withoutReserved } from '../metadata.ts';
import { injectGuest } from '../extensions/guest-injection.ts';
import { guestSecretNameOf } from '../extensions/guest-secret.ts';
import { applyPodDefaults, type PodDefaults } from './pod-defaults.ts';

export interface Pod extends KubeObject {
  spec: PodSpec & { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Extra pod labels decided outside the core (the extensions hook, e.g. warm-pool labels). */
export type PodLabelHook = (sandbox: Sandbox) => Record<string, string>;

export const podNameOf = (sb: Sandbox) => sb.metadata.annotations?.[ANNOTATION.podName] ?? sb.metadata.name!;
export const pvcNameOf = (vctName: string, sandboxName: string) => `${vctName}-${sandboxName}`;

export function desiredPodMetadata(sb: Sandbox, hook?: PodLabelHook) {
  const userLabels = withoutReserved(sb.spec.podTemplate.metadata?.labels);
  const userAnnotations = withoutReserved(sb.spec.podTemplate.metadata?.annotations);
  const createdBy = sb.metadata.labels?.[LABEL.createdBy];
  const labels: Record<string, string> = {
    ...userLabels,
    ...(hook ? hook(sb) : {}),
    ...(createdBy ? { [LABEL.createdBy]: createdBy } : {}),
    [LABEL.sandboxNameHash]: nameHash(sb.metadata.name!),
  };
  const annotations: Record<string, string> = {
    ...userAnnotations,
    [ANNOTATION.propagatedLabels]: sortedKeys(userLabels),
    [ANNOTATION.propagatedAnnotations]: sortedKeys(userAnnotations),
  };
  return { labels, annotations };
}

/** Volumes of the template with VCT-backed PVC volumes replacing same-named ones. */
function volumesOf(sb: Sandbox): Volume[] | undefined {
  const vcts = sb.spec.volumeClaimTemplates ?? [];
  const volumes = [...(sb.spec.podTemplate.spec.volumes ?? [])];
  for (const vct of vcts) {
    const name = vct.metadata?.name ?? '';
    const vol: Volume = { name, persistentVolumeClaim: { claimName: pvcNameOf(name, sb.metadata.name!) } };
    const at = volumes.findIndex((v) => v.name === name);
    if (at >= 0) volumes[at] = vol; else volumes.push(vol);
  }
  return volumes.length ? volumes : undefined;
}

/** The pod of a Sandbox: its template with PVC volumes, the guest if asked for, secure defaults. */
export function buildPod(sb: Sandbox, defaults: PodDefaults, hook?: PodLabelHook): Pod {
  const { labels, annotations } = desiredPodMetadata(sb, hook);
  const volumes = volumesOf(sb);
  const spec = injectGuest({ ...sb.spec.podTemplate.spec, ...(volumes ? { volumes } : {}) },
    sb.spec.podTemplate.metadata?.annotations, guestSecretNameOf(sb.metadata.name!));
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: sb.metadata.name, namespace: sb.metadata.namespace, labels, annotations,
      ownerReferences: [controllerRef(sb, KIND.Sandbox)],
    },
    spec: applyPodDefaults(spec, defaults),
  };
}

/**
 * Merge patch bringing a live pod's labels/annotations to the desired ones: sets desired keys and
 * removes keys we propagated earlier that are no longer wanted. Null when already in sync.
 */
export function podMetadataPatch(pod: Pod, sb: Sandbox, hook?: PodLabelHook): Record<string, unknown> | null {
  const want = desiredPodMetadata(sb, hook);
  const have = { labels: pod.metadata.labels ?? {}, annotations: pod.metadata.annotations ?? {} };
  const labels: Record<string, string | null> = {};
  const annotations: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(want.labels)) if (have.labels[k] !== v) labels[k] = v;
  for (const [k, v] of Object.entries(want.annotations)) if (have.annotations[k] !== v) annotations[k] = v;
  for (const k of splitKeys(have.annotations[ANNOTATION.propagatedLabels])) {
    if (!(k in want.labels) && k in have.labels) labels[k] = null;
  }
  for (const k of splitKeys(have.annotations[ANNOTATION.propagatedAnnotations])) {
    if (!(k in want.annotations) && k in have.annotations) annotations[k] = null;
  }
  // Pool labels leave the pod when the sandbox leaves the pool (adoption).
  for (const k of [LABEL.warmPoolSandbox]) if (!(k in want.labels) && k in have.labels) labels[k] = null;
  const metadata: Record<string, unknown> = {};
  if (Object.keys(labels).length) metadata.labels = labels;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return Object.keys(metadata).length ? { metadata } : null;
}
