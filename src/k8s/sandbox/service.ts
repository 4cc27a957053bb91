// The headless Service of a Sandbox: name = sandbox name, selector = name-hash label, ports from
// every container and restartable (sidecar) init container, deduplicated by (port, protocol).
import { KIND, LABEL } from '../../api/k8s/constants.ts';
import type { KubeObject, Sandbox } from '../../api/k8s/types.ts';
import { nameHash } from '../hash.ts';
import { controllerRef } from '../ownership.ts';

export interface ServicePort { name: string; port: number; targetPort: number; protocol: string }
export interface Service extends KubeObject {
  spec: { clusterIP?: string; selector?: Record<string, string>; ports?: ServicePort[]; [k: string]: unknown };
}

export function servicePorts(sb: Sandbox): ServicePort[] {
  const spec = sb.spec.podTemplate.spec;
  const containers = [...spec.containers, ...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const seen = new Set<string>();
  const names = new Set<string>();
  const out: ServicePort[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      const key = `${p.containerPort}/${protocol}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let name = p.name ?? `p-${p.containerPort}-${protocol.toLowerCase()}`;
      if (names.has(name)) {
        let i = 2;
        while (names.has(`${name}-${i}`)) i++;
        name = `${name}-${i}`;
      }
      names.add(name);
      out.push({ name, port: p.containerPort, targetPort: p.containerPort, protocol });
    }
  }
  return out;
}

export function buildService(sb: Sandbox): Service {
  const hash = nameHash(sb.metadata.name!);
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      name: sb.metadata.name, namespace: sb.metadata.namespace,
      labels: { [LABEL.sandboxNameHash]: hash },
      ownerReferences: [controllerRef(sb, KIND.Sandbox)],
    },
    spec: { clusterIP: 'None', selector: { [LABEL.sandboxNameHash]: hash }, ports: servicePorts(sb) },
  };
}

/** Merge patch fixing drift on an owned Service (labels, selector, ports), or null. */
export function serviceDriftPatch(have: Service, want: Service): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  const hash = want.metadata.labels![LABEL.sandboxNameHash];
  if (have.metadata.labels?.[LABEL.sandboxNameHash] !== hash) patch.metadata = { labels: { [LABEL.sandboxNameHash]: hash } };
  const spec: Record<string, unknown> = {};
  if (JSON.stringify(have.spec.selector) !== JSON.stringify(want.spec.selector)) spec.selector = want.spec.selector;
  const norm = (ps: ServicePort[] | undefined) => JSON.stringify((ps ?? []).map((p) => [p.name, p.port, Number(p.targetPort), p.protocol]));
  if (norm(have.spec.ports) !== norm(want.spec.ports)) spec.ports = want.spec.ports;
  if (Object.keys(spec).length) patch.spec = spec;
  return Object.keys(patch).length ? patch : null;
}
