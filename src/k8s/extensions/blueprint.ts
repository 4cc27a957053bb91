// Sandbox specs derived from a SandboxTemplate: deep copy of its blueprint plus secure defaults,
// and the hashes that tell whether a warm-pool member still matches its template.
import { LABEL } from '../../api/k8s/constants.ts';
import type { PodSpec, PodTemplate, Sandbox, SandboxBlueprint, SandboxTemplate } from '../../api/k8s/types.ts';
import { canonicalJson, contentHash, nameHash } from '../hash.ts';
import { withPublicDns } from '../sandbox/pod-defaults.ts';

/**
 * Template-level defaults (the operator adds the pod-level ones of sandbox/pod-defaults.ts, and
 * the guest, to every pod it creates).
 */
export function applySecureDefaults(spec: PodSpec, t: SandboxTemplate): PodSpec {
  const out: PodSpec = structuredClone(spec);
  const managed = (t.spec.networkPolicyManagement ?? 'Managed') === 'Managed';
  return managed && !t.spec.networkPolicy ? withPublicDns(out) : out;
}

/** The blueprint a new Sandbox gets from the template: copied and defaulted. */
export function blueprintFromTemplate(t: SandboxTemplate): SandboxBlueprint {
  const podTemplate: PodTemplate = {
    ...(t.spec.podTemplate.metadata ? { metadata: structuredClone(t.spec.podTemplate.metadata) } : {}),
    spec: applySecureDefaults(t.spec.podTemplate.spec, t),
  };
  return {
    podTemplate,
    ...(t.spec.volumeClaimTemplates ? { volumeClaimTemplates: structuredClone(t.spec.volumeClaimTemplates) } : {}),
    ...(t.spec.service !== undefined ? { service: t.spec.service } : {}),
  };
}

/** Hash of the template's blueprint (label sandbox-template-hash). */
export function blueprintHash(t: SandboxTemplate): string {
  return contentHash({ podTemplate: t.spec.podTemplate, volumeClaimTemplates: t.spec.volumeClaimTemplates ?? null, service: t.spec.service ?? null });
}

/** Hash of the template's PodTemplate (deprecated label sandbox-pod-template-hash). */
export function podTemplateHash(t: SandboxTemplate): string {
  return contentHash(t.spec.podTemplate);
}

/**
 * Semantic equality of a member's blueprint with the template's: pod spec (after defaults), VCTs
 * and service. Metadata-only template edits never make a member stale.
 */
export function sameBlueprint(member: SandboxBlueprint, t: SandboxTemplate): boolean {
  const want = blueprintFromTemplate(t);
  return canonicalJson(member.podTemplate.spec) === canonicalJson(want.podTemplate.spec)
    && canonicalJson(member.volumeClaimTemplates ?? []) === canonicalJson(want.volumeClaimTemplates ?? [])
    && (member.service ?? null) === (want.service ?? null);
}

/**
 * Is a member out of date with its template? Hash first; a hash mismatch is confirmed
 * semantically. Warm pools replace stale members; claims skip them under Recreate.
 */
export function isStale(sb: Sandbox, t: SandboxTemplate): boolean {
  if (sb.metadata.labels?.[LABEL.templateRefHash] !== nameHash(t.metadata.name!)) return true;
  if (sb.metadata.labels?.[LABEL.templateHash] === blueprintHash(t)) return false;
  return !sameBlueprint(sb.spec, t);
}
