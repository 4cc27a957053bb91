// The managed NetworkPolicy of a SandboxTemplate: one per template, selecting its pods by the
// template-ref-hash label. Default rules are secure: ingress only from the router, egress only to
// public addresses (cluster-internal ranges and link-local metadata endpoints are denied).
import { LABEL, ROUTER_APP_LABEL, ROUTER_NAMESPACE } from '../../api/k8s/constants.ts';
import type { KubeObject, SandboxTemplate } from '../../api/k8s/types.ts';
import { nameHash } from '../hash.ts';
import { controllerRef } from '../ownership.ts';

export interface NetworkPolicy extends KubeObject {
  spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress?: unknown[]; egress?: unknown[] };
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
    egress: [{
      to: [
        { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'] } },
        { ipBlock: { cidr: '::/0', except: ['fc00::/7', 'fe80::/10'] } },
      ],
    }],
  };
}

export function buildNetworkPolicy(t: SandboxTemplate): NetworkPolicy {
  const rules = t.spec.networkPolicy
    ? { ingress: t.spec.networkPolicy.ingress ?? [], egress: t.spec.networkPolicy.egress ?? [] }
    : defaultRules();
  const hash = nameHash(t.metadata.name!);
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
    metadata: {
      name: policyNameOf(t.metadata.name!), namespace: t.metadata.namespace,
      labels: { [LABEL.templateRefHash]: hash },
      ownerReferences: [controllerRef(t, 'extensions.agents.x-k8s.io/v1beta1', 'SandboxTemplate')],
    },
    spec: {
      podSelector: { matchLabels: { [LABEL.templateRefHash]: hash } },
      policyTypes: ['Ingress', 'Egress'],
      ...rules,
    },
  };
}
