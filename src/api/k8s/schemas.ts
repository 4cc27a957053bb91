// OpenAPI v3 structural schemas of the four kinds in both served versions: the single source of
// truth from which `deploy/crds/*.yaml` are generated (scripts/k8s-crds.ts) and which the tests
// install into a real API server. Field names, enums, defaults and CEL rules follow
// kubernetes-sigs/agent-sandbox; agentbox additions are marked.

import { NETWORK_POLICY_EGRESS_RULE, NETWORK_POLICY_INGRESS_RULE, PERSISTENT_VOLUME_CLAIM_SPEC, POD_SPEC } from './core-schemas.gen.ts';

export type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const dateTime: Schema = { type: 'string', format: 'date-time' };
const int32 = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const enumOf = (values: string[], dflt?: string): Schema =>
  ({ type: 'string', enum: values, ...(dflt === undefined ? {} : { default: dflt }) });
const obj = (properties: Record<string, Schema>, required?: string[]): Schema =>
  ({ type: 'object', properties, ...(required ? { required } : {}) });
const nameRef: Schema = obj({ name: str }, ['name']);

const podMetadata = obj({ labels: stringMap, annotations: stringMap });
const embeddedMetadata = obj({ name: str, labels: stringMap, annotations: stringMap });
// The core objects a Sandbox carries (PodSpec, PVC spec, policy rules) are Kubernetes' own schemas
// (core-schemas.gen.ts), so the API server refuses a bad pod template when the Sandbox is written,
// not later when the operator creates its Pod.
const podTemplate = obj({ metadata: podMetadata, spec: POD_SPEC }, ['spec']);
const volumeClaimTemplates: Schema = {
  type: 'array',
  // Bounded so the CEL immutability rule has a finite estimated cost.
  maxItems: 32,
  'x-kubernetes-list-type': 'atomic',
  items: obj({ metadata: embeddedMetadata, spec: PERSISTENT_VOLUME_CLAIM_SPEC }, ['spec']),
};
/** metav1.Condition list, shared by agentbox's own kinds (snapshot-schemas.ts). */
export const conditions: Schema = {
  type: 'array',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: obj({
    type: { type: 'string', maxLength: 316 },
    status: enumOf(['True', 'False', 'Unknown']),
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: dateTime,
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
  }, ['type', 'status', 'lastTransitionTime', 'reason', 'message']),
};
const vctImmutable = {
  rule: 'has(self.volumeClaimTemplates) == has(oldSelf.volumeClaimTemplates) && '
    + '(!has(self.volumeClaimTemplates) || self.volumeClaimTemplates == oldSelf.volumeClaimTemplates)',
  message: 'volumeClaimTemplates is immutable',
};

const blueprint = { podTemplate, volumeClaimTemplates, service: bool };
const sandboxShutdownPolicy = enumOf(['Delete', 'Retain'], 'Retain');
// agentbox addition (upstream #729): what to do with a Failed pod.
const podFailurePolicy = enumOf(['Ignore', 'Recreate'], 'Ignore');
const networkPolicy = obj({
  ingress: { type: 'array', items: NETWORK_POLICY_INGRESS_RULE },
  egress: { type: 'array', items: NETWORK_POLICY_EGRESS_RULE },
});
const templateCommon = {
  networkPolicy,
  networkPolicyManagement: enumOf(['Managed', 'Unmanaged'], 'Managed'),
  envVarsInjectionPolicy: enumOf(['Allowed', 'Overrides', 'Disallowed'], 'Disallowed'),
};
const claimEnv: Schema = {
  type: 'array',
  'x-kubernetes-list-type': 'atomic',
  items: obj({ name: str, value: str, containerName: str }, ['name']),
};
const claimLifecycle = obj({
  shutdownTime: dateTime,
  ttlSecondsAfterFinished: int32({ minimum: 0 }),
  shutdownPolicy: enumOf(['Delete', 'DeleteForeground', 'Retain'], 'Retain'),
});
const claimStatus = obj({ conditions, sandbox: obj({ name: str, podIPs: { type: 'array', items: str } }) });

const root = (spec: Schema, status?: Schema): Schema => obj({
  apiVersion: str,
  kind: str,
  metadata: { type: 'object' },
  spec,
  ...(status ? { status } : {}),
}, ['spec']);

export interface PrinterColumn { name: string; type: string; jsonPath: string; description?: string; priority?: number }
export interface ScaleSubresource { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string }
export interface VersionDef {
  schema: Schema;
  printerColumns?: PrinterColumn[];
  status: boolean;
  scale?: ScaleSubresource;
}
export interface KindDef {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  v1beta1: VersionDef;
  v1alpha1: VersionDef;
}

const readyCol = (): PrinterColumn =>
  ({ name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" });
const reasonCol = (): PrinterColumn =>
  ({ name: 'Reason', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].reason" });
const ageCol = (): PrinterColumn => ({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
const replicaScale: ScaleSubresource =
  { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };

export const SANDBOX: KindDef = {
  group: 'agents.x-k8s.io', kind: 'Sandbox', plural: 'sandboxes', singular: 'sandbox', shortNames: ['sandbox'],
  v1beta1: {
    status: true,
    printerColumns: [readyCol(), reasonCol(), ageCol()],
    schema: root(
      { ...obj({
        ...blueprint,
        shutdownTime: dateTime,
        shutdownPolicy: sandboxShutdownPolicy,
        operatingMode: enumOf(['Running', 'Suspended'], 'Running'),
        podFailurePolicy,
      }, ['podTemplate']), 'x-kubernetes-validations': [vctImmutable] },
      obj({
        serviceFQDN: str, service: str, conditions, selector: str,
        podIPs: { type: 'array', items: str }, nodeName: str,
      }),
    ),
  },
  v1alpha1: {
    status: true,
    scale: replicaScale,
    schema: root(
      { ...obj({
        ...blueprint,
        shutdownTime: dateTime,
        shutdownPolicy: sandboxShutdownPolicy,
        replicas: int32({ minimum: 0, maximum: 1, default: 1 }),
        podFailurePolicy,
      }, ['podTemplate']), 'x-kubernetes-validations': [vctImmutable] },
      obj({
        serviceFQDN: str, service: str, conditions, selector: str,
        podIPs: { type: 'array', items: str }, replicas: int32(),
      }),
    ),
  },
};

export const SANDBOX_TEMPLATE: KindDef = {
  group: 'extensions.agents.x-k8s.io', kind: 'SandboxTemplate', plural: 'sandboxtemplates',
  singular: 'sandboxtemplate', shortNames: ['sandboxtemplate'],
  v1beta1: {
    status: false,
    schema: root(obj({
      ...blueprint, ...templateCommon,
      volumeClaimTemplatesPolicy: enumOf(['Disallowed', 'Allowed', 'Overrides'], 'Disallowed'),
    }, ['podTemplate'])),
  },
  v1alpha1: {
    status: false,
    schema: root(obj({ ...blueprint, ...templateCommon }, ['podTemplate'])),
  },
};

export const SANDBOX_CLAIM: KindDef = {
  group: 'extensions.agents.x-k8s.io', kind: 'SandboxClaim', plural: 'sandboxclaims',
  singular: 'sandboxclaim', shortNames: ['sandboxclaim'],
  v1beta1: {
    status: true,
    printerColumns: [readyCol(), { name: 'Sandbox', type: 'string', jsonPath: '.status.sandbox.name' }, reasonCol(), ageCol()],
    schema: root(obj({
      warmPoolRef: nameRef,
      lifecycle: claimLifecycle,
      additionalPodMetadata: podMetadata,
      env: claimEnv,
      volumeClaimTemplates,
    }, ['warmPoolRef']), claimStatus),
  },
  v1alpha1: {
    status: true,
    schema: root(obj({
      sandboxTemplateRef: nameRef,
      warmpool: { type: 'string', default: 'default' },
      lifecycle: claimLifecycle,
      additionalPodMetadata: podMetadata,
      env: claimEnv,
    }, ['sandboxTemplateRef']), claimStatus),
  },
};

const poolStatusBase = { replicas: int32(), readyReplicas: int32(), selector: str };
export const SANDBOX_WARM_POOL: KindDef = {
  group: 'extensions.agents.x-k8s.io', kind: 'SandboxWarmPool', plural: 'sandboxwarmpools',
  singular: 'sandboxwarmpool', shortNames: ['swp'],
  v1beta1: {
    status: true,
    scale: replicaScale,
    printerColumns: [
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
      // agentbox addition: rollout progress.
      { name: 'Updated', type: 'integer', jsonPath: '.status.updatedReplicas' },
      ageCol(),
    ],
    schema: root(obj({
      replicas: int32({ minimum: 0, default: 1 }),
      sandboxTemplateRef: nameRef,
      updateStrategy: obj({ type: enumOf(['Recreate', 'OnReplenish'], 'OnReplenish') }),
    }, ['sandboxTemplateRef']), obj({
      ...poolStatusBase,
      updatedReplicas: int32(),
      observedGeneration: { type: 'integer', format: 'int64' },
      conditions,
    })),
  },
  v1alpha1: {
    status: true,
    scale: replicaScale,
    printerColumns: [
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
      ageCol(),
    ],
    schema: root(obj({
      replicas: int32({ minimum: 0 }),
      sandboxTemplateRef: nameRef,
      updateStrategy: obj({ type: enumOf(['Recreate', 'OnReplenish'], 'OnReplenish') }),
    }, ['replicas', 'sandboxTemplateRef']), obj(poolStatusBase)),
  },
};

export const ALL_KINDS: readonly KindDef[] = [SANDBOX, SANDBOX_TEMPLATE, SANDBOX_CLAIM, SANDBOX_WARM_POOL];
