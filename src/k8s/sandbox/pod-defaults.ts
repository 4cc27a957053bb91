// Secure defaults for every pod the operator creates, template-derived or from a bare Sandbox:
// the runtime class (gVisor unless the operator is told otherwise) and, field by field where the
// pod template leaves them unset, no service-account token, no privilege escalation, no
// capabilities and the runtime's default seccomp profile. What a template sets explicitly is kept.
import type { Container, PodSpec } from '../../api/k8s/types.ts';

export interface PodDefaults {
  /** RuntimeClass for pods that name none; '' leaves the cluster default. */
  runtimeClassName: string;
  /** The pod is under the managed default NetworkPolicy (see withPublicDns). */
  defaultPolicy?: boolean;
}

const PUBLIC_DNS = ['8.8.8.8', '1.1.1.1'];

/**
 * Under the managed default policy CoreDNS is unreachable (cluster ranges are denied), so name
 * resolution goes to public resolvers instead of failing; this also blocks Service enumeration.
 * A pod template that chooses its own dnsPolicy keeps it.
 */
export function withPublicDns(spec: PodSpec): PodSpec {
  if (spec.dnsPolicy !== undefined) return spec;
  return { ...spec, dnsPolicy: 'None', dnsConfig: { ...(spec.dnsConfig ?? {}), nameservers: PUBLIC_DNS } };
}

export const DEFAULT_RUNTIME_CLASS = 'gvisor';

type SecurityContext = Record<string, unknown>;

function containerDefaults(c: Container): Container {
  const sc: SecurityContext = { ...((c.securityContext as SecurityContext | undefined) ?? {}) };
  // The API refuses allowPrivilegeEscalation=false beside privileged=true; a privileged template
  // is the cluster admission's business (PSA), not silently rewritten here.
  if (sc.allowPrivilegeEscalation === undefined && sc.privileged !== true) sc.allowPrivilegeEscalation = false;
  if (sc.capabilities === undefined) sc.capabilities = { drop: ['ALL'] };
  return { ...c, securityContext: sc };
}

export function applyPodDefaults(input: PodSpec, d: PodDefaults): PodSpec {
  const spec = d.defaultPolicy ? withPublicDns(input) : input;
  const podSc: SecurityContext = { ...((spec.securityContext as SecurityContext | undefined) ?? {}) };
  if (podSc.seccompProfile === undefined) podSc.seccompProfile = { type: 'RuntimeDefault' };
  return {
    ...spec,
    // Sandboxed code has no business with the Kubernetes API.
    automountServiceAccountToken: spec.automountServiceAccountToken ?? false,
    ...(spec.runtimeClassName === undefined && d.runtimeClassName ? { runtimeClassName: d.runtimeClassName } : {}),
    securityContext: podSc,
    containers: spec.containers.map(containerDefaults),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(containerDefaults) } : {}),
  };
}
