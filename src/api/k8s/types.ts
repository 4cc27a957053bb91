// TypeScript shapes of the four kinds (and agentbox's SandboxSnapshot) as they travel over the wire (JSON, timestamps as RFC 3339
// strings). Core Kubernetes sub-objects (PodSpec, PVC spec, NetworkPolicy rules) are validated by
// the API server when the operator creates the real objects, so they are typed loosely here.
// Every other field must agree with the v1beta1 schemas in ./schemas.ts: ./types.test.ts walks
// both and fails on a field added, removed, made optional or retyped on one side only.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ContainerPort { name?: string; containerPort: number; protocol?: string }
export interface EnvVar { name: string; value?: string; valueFrom?: unknown }
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: ContainerPort[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  restartPolicy?: string;
  [k: string]: unknown;
}
export interface Volume { name: string; [k: string]: unknown }
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  runtimeClassName?: string;
  automountServiceAccountToken?: boolean;
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: unknown[] };
  restartPolicy?: string;
  [k: string]: unknown;
}

export interface PodMetadata { labels?: Record<string, string>; annotations?: Record<string, string> }
export interface EmbeddedObjectMetadata extends PodMetadata { name?: string }
export interface PodTemplate { metadata?: PodMetadata; spec: PodSpec }
export interface PersistentVolumeClaimTemplate { metadata?: EmbeddedObjectMetadata; spec: Record<string, unknown> }

export interface SandboxBlueprint {
  podTemplate: PodTemplate;
  volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
  /** nil: keep a pre-existing Service; true: create/adopt a headless one; false: delete ours. */
  service?: boolean;
}

export type ShutdownPolicy = 'Delete' | 'Retain';
export type ClaimShutdownPolicy = 'Delete' | 'DeleteForeground' | 'Retain';
export type OperatingMode = 'Running' | 'Suspended';
export type PodFailurePolicy = 'Ignore' | 'Recreate';

export interface SandboxSpec extends SandboxBlueprint {
  shutdownTime?: string;
  shutdownPolicy?: ShutdownPolicy;
  operatingMode?: OperatingMode;
  /** agentbox addition (upstream #729): Recreate replaces a Failed pod, keeping its PVCs. */
  podFailurePolicy?: PodFailurePolicy;
}

export interface SandboxStatus {
  serviceFQDN?: string;
  service?: string;
  conditions?: Condition[];
  selector?: string;
  podIPs?: string[];
  nodeName?: string;
}

export interface Sandbox extends KubeObject { spec: SandboxSpec; status?: SandboxStatus }

export interface NetworkPolicySpec { ingress?: unknown[]; egress?: unknown[] }

export interface SandboxTemplateSpec extends SandboxBlueprint {
  networkPolicy?: NetworkPolicySpec;
  networkPolicyManagement?: 'Managed' | 'Unmanaged';
  envVarsInjectionPolicy?: 'Allowed' | 'Overrides' | 'Disallowed';
  volumeClaimTemplatesPolicy?: 'Disallowed' | 'Allowed' | 'Overrides';
}
export interface SandboxTemplate extends KubeObject { spec: SandboxTemplateSpec }

export interface ClaimLifecycle {
  shutdownTime?: string;
  ttlSecondsAfterFinished?: number;
  shutdownPolicy?: ClaimShutdownPolicy;
}
export interface ClaimEnvVar { name: string; value?: string; containerName?: string }

export interface SandboxClaimSpec {
  warmPoolRef: { name: string };
  lifecycle?: ClaimLifecycle;
  additionalPodMetadata?: PodMetadata;
  env?: ClaimEnvVar[];
  volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
}
export interface SandboxClaimStatus {
  conditions?: Condition[];
  sandbox?: { name?: string; podIPs?: string[] };
}
export interface SandboxClaim extends KubeObject { spec: SandboxClaimSpec; status?: SandboxClaimStatus }

export interface SandboxWarmPoolSpec {
  replicas?: number;
  sandboxTemplateRef: { name: string };
  updateStrategy?: { type?: 'Recreate' | 'OnReplenish' };
}
export interface SandboxWarmPoolStatus {
  replicas?: number;
  readyReplicas?: number;
  /** agentbox addition: members built from the current template (rollout progress). */
  updatedReplicas?: number;
  selector?: string;
  observedGeneration?: number;
  conditions?: Condition[];
}
export interface SandboxWarmPool extends KubeObject { spec: SandboxWarmPoolSpec; status?: SandboxWarmPoolStatus }

/** agentbox.dev/v1alpha1 (src/api/k8s/snapshot-schemas.ts): a memory snapshot of a Sandbox's pod. */
export interface SandboxSnapshotSpec { sandboxName: string }
export type SnapshotPhase = 'Ready';
export interface SandboxSnapshotStatus {
  phase?: SnapshotPhase;
  snapshotId?: string;
  node?: string;
  sizeBytes?: number;
  storage?: 'Node' | 'S3';
  location?: string;
  manifestSha256?: string;
  conditions?: Condition[];
}
/** SandboxConfig (src/api/k8s/sandbox-config-schemas.ts): its spec is SandboxConfigSpec, parsed with zod where it is read. */
export interface SandboxConfigNodeStatus {
  name: string;
  phase: 'Installed' | 'Failed';
  sha256?: string;
  version?: string;
  message?: string;
  lastTransitionTime?: string;
}
export interface SandboxConfigStatus {
  observedGeneration?: number;
  installedNodes?: number;
  nodes?: SandboxConfigNodeStatus[];
  conditions?: Condition[];
}
export interface SandboxConfig extends KubeObject { spec: unknown; status?: SandboxConfigStatus }

export interface SandboxSnapshot extends KubeObject { spec: SandboxSnapshotSpec; status?: SandboxSnapshotStatus }
