// Managed NetworkPolicies: one per SandboxTemplate, selecting its pods by the template-ref-hash
// label, and one per bare Sandbox (not made from a template), selecting its pod by name hash.
// Default rules are secure: ingress only from the router (the agentbox server reaches pods through
// it too, src/cluster/router-access.ts), egress only to global addresses (beneath the egress
// floor of one machine: cluster-internal, CGNAT, loopback, link-local metadata, reserved and
// every non-global IPv6 range denied). A template's own rules replace them, floored too, with DNS
// added when they allow egress (templateRules).
import { KIND, LABEL, ROUTER_APP_LABEL, ROUTER_NAMESPACE } from '../../api/k8s/constants.ts';
import type { KubeObject, Sandbox, SandboxTemplate } from '../../api/k8s/types.ts';
import { canonicalJson, nameHash } from '../hash.ts';
import { controllerRef } from '../ownership.ts';
import { GLOBAL_PEERS, withEgressFloor, type EgressRule } from './egress-floor.ts';

export interface NetworkPolicy extends KubeObject {
  spec: {
    podSelector: { matchLabels: Record<string, string>; matchExpressions?: { key: string; operator: string }[] };
    policyTypes: string[]; ingress?: unknown[]; egress?: unknown[];
  };
}

export const policyNameOf = (templateName: string) => `${templateName}-network-policy`;

export function defaultRules(): { ingress: unknown[]; egress: unknown[] } {
  return {
    ingress: [{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ROUTER_NAMESPACE } },
        podSelector: { matchLabels: { app: ROUTER_APP_LABEL } },
      }],
    }],
    egress: [{ to: GLOBAL_PEERS }],
  };
}

/**
 * Egress to the cluster's DNS service (CoreDNS pods labelled k8s-app=kube-dns in kube-system, as
 * kubeadm, GKE, EKS and AKS deploy it), port 53 over UDP and TCP.
 */
export const CLUSTER_DNS_EGRESS = {
  to: [{
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
    podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
  }],
  ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
};

/**
 * A template's own rules (upstream's `spec.networkPolicy`) with the egress floor cut out of its
 * egress (egress-floor.ts: its allow-list cannot open private or metadata addresses, as on one
 * machine), plus DNS when its egress lets anything out: its pods keep the cluster's DNS (blueprint.ts points only pods under the default
 * rules at public resolvers), and an allow-list whose names cannot be resolved allows nothing.
 * As on one machine, where any sandbox with egress reaches the DNS proxy
 * (src/engine/network/egress.ts). Upstream copies the rules alone and leaves DNS to the template;
 * an empty egress list stays deny-all here too.
 */
function templateRules(np: NonNullable<SandboxTemplate['spec']['networkPolicy']>): { ingress: unknown[]; egress: unknown[] } {
  const egress = withEgressFloor((np.egress ?? []) as EgressRule[]);
  return { ingress: np.ingress ?? [], egress: egress.length ? [...egress, CLUSTER_DNS_EGRESS] : [] };
}

export function buildNetworkPolicy(t: SandboxTemplate): NetworkPolicy {
  const rules = t.spec.networkPolicy ? templateRules(t.spec.networkPolicy) : defaultRules();
  const hash = nameHash(t.metadata.name!);
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
    metadata: {
      name: policyNameOf(t.metadata.name!), namespace: t.metadata.namespace,
      labels: { [LABEL.templateRefHash]: hash },
      ownerReferences: [controllerRef(t, KIND.SandboxTemplate)],
    },
    spec: {
      podSelector: { matchLabels: { [LABEL.templateRefHash]: hash } },
      policyTypes: ['Ingress', 'Egress'],
      ...rules,
    },
  };
}

export const sandboxPolicyNameOf = (sandboxName: string) => `${sandboxName}-sandbox-network-policy`;

/** The default-deny policy of a bare Sandbox: its pod only, never a template's pod. */
export function buildSandboxNetworkPolicy(sb: Sandbox): NetworkPolicy {
  const hash = nameHash(sb.metadata.name!);
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
    metadata: {
      name: sandboxPolicyNameOf(sb.metadata.name!), namespace: sb.metadata.namespace,
      labels: { [LABEL.sandboxNameHash]: hash },
      ownerReferences: [controllerRef(sb, KIND.Sandbox)],
    },
    spec: {
      podSelector: { matchLabels: { [LABEL.sandboxNameHash]: hash }, matchExpressions: [{ key: LABEL.templateRefHash, operator: 'DoesNotExist' }] },
      policyTypes: ['Ingress', 'Egress'],
      ...defaultRules(),
    },
  };
}

/** Semantic equality of what a policy enforces (selector, types, rules). */
export const samePolicy = (a: NetworkPolicy, b: NetworkPolicy) => canonicalJson(policyRules(a)) === canonicalJson(policyRules(b));
const policyRules = (p: NetworkPolicy) => ({ s: p.spec.podSelector, t: p.spec.policyTypes, i: p.spec.ingress ?? [], e: p.spec.egress ?? [] });
