// Sandbox specs derived from a SandboxTemplate: deep copy of its blueprint plus secure defaults,
// and the hashes that tell whether a warm-pool member still matches its template.
import type { PodSpec, PodTemplate, SandboxBlueprint, SandboxTemplate } from '../../api/k8s/types.ts';
import { canonicalJson, contentHash } from '../hash.ts';
import { injectGuest } from './guest-injection.ts';

const PUBLIC_DNS = ['8.8.8.8', '1.1.1.1'];

/** Secure defaults for template-derived pods (bare Sandboxes get none). */
export function applySecureDefaults(spec: PodSpec, t: SandboxTemplate): PodSpec {
  const out: PodSpec = structuredClone(spec);
  if (out.automountServiceAccountToken === undefined) out.automountServiceAccountToken = false;
  // With the managed default policy CoreDNS is unreachable (cluster ranges are denied), so name
  // resolution goes to public resolvers instead of failing; this also blocks Service enumeration.
  const managed = (t.spec.networkPolicyManagement ?? 'Managed') === 'Managed';
  if (managed && !t.spec.networkPolicy && out.dnsPolicy === undefined) {
    out.dnsPolicy = 'None';
    out.dnsConfig = { ...(out.dnsConfig ?? {}), nameservers: PUBLIC_DNS };
  }
  return out;
}

/** The blueprint a new Sandbox gets from the template: copied, defaulted, guest injected. */
export function blueprintFromTemplate(t: SandboxTemplate): SandboxBlueprint {
  const podTemplate: PodTemplate = {
    ...(t.spec.podTemplate.metadata ? { metadata: structuredClone(t.spec.podTemplate.metadata) } : {}),
    spec: injectGuest(applySecureDefaults(t.spec.podTemplate.spec, t), t.spec.podTemplate.metadata?.annotations),
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
