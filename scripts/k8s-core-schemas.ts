// The structural schemas of the core Kubernetes objects the CRDs embed (PodSpec, PVC spec,
// NetworkPolicy rules), read from Kubernetes' own OpenAPI v3 documents in the k8s.io/kubernetes
// module (api/openapi-spec/v3) of the version scripts/k8s-env.sh pins, with every $ref inlined.
// Used by scripts/k8s-crds.ts to write src/api/k8s/core-schemas.gen.ts.
//
// What a CRD schema may not say, or should not: descriptions (size: the API server caps a CRD
// near 1.5 MB), strategic-merge hints (`x-kubernetes-patch-*`, unions) and core defaults (the API
// server applies those when the real Pod/PVC is created; a CRD default would rewrite every stored
// Sandbox). Defaults stay only on list-map keys that are not required, which a CRD must have.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, unknown>;

const root = new URL('..', import.meta.url).pathname;

/** The Kubernetes version the test environment runs (scripts/k8s-env.sh), so CRDs match it. */
export function pinnedKubernetesVersion(): string {
  const script = readFileSync(join(root, 'scripts/k8s-env.sh'), 'utf8');
  const v = /K8S_VERSION="\$\{AGENTBOX_K8S_VERSION:-(v[0-9.]+)\}"/.exec(script)?.[1];
  if (!v) throw new Error('cannot find the pinned K8S_VERSION in scripts/k8s-env.sh');
  return v;
}

/** Where the Go module cache holds k8s.io/kubernetes@version (downloaded through the module proxy if absent). */
function kubernetesModuleDir(version: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], { encoding: 'utf8' });
  return (JSON.parse(out) as { Dir: string }).Dir;
}

// The syntax Kubernetes' validation code enforces on these fields (pkg/apis/core/validation:
// ValidateDNS1123Label, validatePortNumOrName, IsValidPortNum), which its OpenAPI does not carry.
const DNS_LABEL: Schema = { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
const PORT: Schema = { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 };
const PORT_NAME: Schema = { type: 'string', maxLength: 15, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' };
const STRICTER: Record<string, Record<string, Schema>> = {
  'io.k8s.api.core.v1.Container': { name: DNS_LABEL },
  'io.k8s.api.core.v1.EphemeralContainer': { name: DNS_LABEL },
  'io.k8s.api.core.v1.Volume': { name: DNS_LABEL },
  'io.k8s.api.core.v1.ContainerPort': { containerPort: PORT, hostPort: PORT, name: PORT_NAME },
  'io.k8s.api.networking.v1.NetworkPolicyPort': { endPort: PORT },
};

// A resource quantity: an integer or a string such as "500m" or "1Gi". Unlike Kubernetes' own
// Quantity syntax (which is signed), no sign: every quantity a pod or claim carries must be >= 0.
const QUANTITY: Schema = {
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  minimum: 0,
  pattern: '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
};
const SPECIAL: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': QUANTITY,
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
};
const DROPPED = new Set(['description', 'default', 'x-kubernetes-patch-strategy', 'x-kubernetes-patch-merge-key', 'x-kubernetes-unions', 'x-kubernetes-group-version-kind']);

class Inliner {
  constructor(private readonly defs: Record<string, Schema>) {}

  ref(name: string, seen: string[] = []): Schema {
    if (SPECIAL[name]) return structuredClone(SPECIAL[name]);
    if (seen.includes(name)) throw new Error(`recursive schema ${[...seen, name].join(' → ')}: a CRD cannot embed it`);
    const def = this.defs[name];
    if (!def) throw new Error(`no schema ${name} in the OpenAPI documents`);
    const out = this.schema(def, [...seen, name]);
    const props = out.properties as Record<string, Schema> | undefined;
    for (const [field, stricter] of Object.entries(STRICTER[name] ?? {})) {
      if (!props?.[field]) throw new Error(`${name} has no field ${field} to tighten`);
      props[field] = { ...props[field], ...stricter };
    }
    return out;
  }

  private schema(s: Schema, seen: string[]): Schema {
    if (typeof s.$ref === 'string') return this.ref(s.$ref.replace('#/components/schemas/', ''), seen);
    // `allOf: [{$ref}]` is how the documents attach a description or default to a reference.
    if (Array.isArray(s.allOf) && s.allOf.length === 1) {
      const { allOf, ...rest } = s;
      return { ...this.schema(allOf[0] as Schema, seen), ...this.schema(rest, seen) };
    }
    const out: Schema = {};
    for (const [k, v] of Object.entries(s)) {
      if (DROPPED.has(k)) continue;
      if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, this.schema(ps, seen)]));
      else if (k === 'items' || k === 'additionalProperties') out[k] = typeof v === 'object' ? this.schema(v as Schema, seen) : v;
      else out[k] = v;
    }
    if (out['x-kubernetes-list-type'] === 'map') this.keepMapKeyDefaults(s, out, seen);
    return out;
  }

  /** A CRD list-map key must be required or defaulted; restore the document's default for those that are not required. */
  private keepMapKeyDefaults(raw: Schema, out: Schema, seen: string[]): void {
    const rawItems = raw.items as Schema;
    const itemName = (((rawItems.allOf as Schema[] | undefined)?.[0] ?? rawItems).$ref as string).replace('#/components/schemas/', '');
    const rawItem = this.defs[itemName]!;
    const item = out.items as Schema;
    const required = new Set((item.required as string[] | undefined) ?? []);
    for (const key of out['x-kubernetes-list-map-keys'] as string[]) {
      if (required.has(key)) continue;
      const dflt = ((rawItem.properties as Record<string, Schema>)[key])?.default;
      if (dflt === undefined) throw new Error(`${itemName}.${key} is a list-map key with neither required nor default (${seen.join(' → ')})`);
      (item.properties as Record<string, Schema>)[key]!.default = dflt;
    }
  }
}

export interface CoreSchemas { version: string; schemas: Record<string, Schema> }

/** The embedded schemas, by the name the generated module exports them under. */
export function readCoreSchemas(): CoreSchemas {
  const version = pinnedKubernetesVersion();
  const dir = join(kubernetesModuleDir(version), 'api/openapi-spec/v3');
  const load = (file: string) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { components: { schemas: Record<string, Schema> } }).components.schemas;
  const inliner = new Inliner({ ...load('api__v1_openapi.json'), ...load('apis__networking.k8s.io__v1_openapi.json') });
  return {
    version,
    schemas: {
      POD_SPEC: inliner.ref('io.k8s.api.core.v1.PodSpec'),
      PERSISTENT_VOLUME_CLAIM_SPEC: inliner.ref('io.k8s.api.core.v1.PersistentVolumeClaimSpec'),
      NETWORK_POLICY_INGRESS_RULE: inliner.ref('io.k8s.api.networking.v1.NetworkPolicyIngressRule'),
      NETWORK_POLICY_EGRESS_RULE: inliner.ref('io.k8s.api.networking.v1.NetworkPolicyEgressRule'),
    },
  };
}
