// Vocabulary and wire shapes of OpenSandbox's Kubernetes kinds (group sandbox.opensandbox.io,
// OpenSandbox `kubernetes/apis/sandbox/v1alpha1/pool_types.go` and `batchsandbox_types.go`), which
// agentbox's operator serves over its own SandboxTemplate, SandboxWarmPool, SandboxClaim and
// Sandbox (src/k8s/README.md says how). Field names are upstream's, so their manifests apply
// unchanged; the pod templates are schemaless upstream and typed loosely here.
import type { PoolCapacity } from '../native.ts';
import type { TypeMeta } from './constants.ts';
import type { Condition, KubeObject, PodTemplate } from './types.ts';

export const OPENSANDBOX_GROUP = 'sandbox.opensandbox.io';
export const OPENSANDBOX_VERSION = 'v1alpha1';

export const OPENSANDBOX_KIND = {
  Pool: { apiVersion: `${OPENSANDBOX_GROUP}/${OPENSANDBOX_VERSION}`, kind: 'Pool' },
  BatchSandbox: { apiVersion: `${OPENSANDBOX_GROUP}/${OPENSANDBOX_VERSION}`, kind: 'BatchSandbox' },
} as const satisfies Record<string, TypeMeta>;

export const OPENSANDBOX_ANNOTATION = {
  /** On a BatchSandbox: JSON array of its members' pod IPs, as upstream publishes them. */
  endpoints: 'sandbox.opensandbox.io/endpoints',
  /** agentbox, on a Pool's SandboxWarmPool: the allocated count when its size was last set, so
   * the next pass knows how many idle members were taken since (pool-controller.ts). */
  allocatedAtResize: 'agentbox.dev/pool-allocated-at-resize',
} as const;

/** Containers of upstream's pool pattern that agentbox's injected guest replaces (docs/opensandbox.md). */
export const OPENSANDBOX_REPLACED = {
  /** Sidecar that starts BatchSandbox tasks in the main container (port 5758). */
  taskExecutor: 'task-executor',
  /** Init container that copies execd and bootstrap.sh into the `opensandbox-bin` volume. */
  execdInstaller: 'execd-installer',
  /** The emptyDir the installer fills. */
  binVolume: 'opensandbox-bin',
} as const;

/** Upstream's pod template: metadata and a PodSpec, schemaless in its CRD. */
export type OpenSandboxPodTemplate = Partial<PodTemplate> & { spec?: PodTemplate['spec'] };

export interface PoolSpec {
  template?: OpenSandboxPodTemplate;
  capacitySpec: PoolCapacity;
  scaleStrategy?: { maxUnavailable?: number | string };
  updateStrategy?: { maxUnavailable?: number | string };
  recycleStrategy?: { type?: 'Delete' | 'Restart' | 'Noop' };
}
export interface PoolStatus {
  observedGeneration?: number;
  /** Hash of spec.template. */
  revision?: string;
  /** Members idle or allocated. */
  total?: number;
  allocated?: number;
  /** Idle and Ready. */
  available?: number;
  /** Idle members built from the current template. */
  updated?: number;
}
export interface Pool extends KubeObject { spec: PoolSpec; status?: PoolStatus }

export interface BatchSandboxSpec {
  replicas?: number;
  poolRef?: string;
  template?: OpenSandboxPodTemplate;
  expireTime?: string;
  taskTemplate?: Record<string, unknown>;
  shardPatches?: unknown[];
  shardTaskPatches?: unknown[];
  taskResourcePolicyWhenCompleted?: 'Retain' | 'Release';
  pause?: boolean;
}
export interface BatchSandboxStatus {
  observedGeneration?: number;
  /** Members that exist. */
  replicas?: number;
  /** Members bound to a running sandbox (a pod with an IP). */
  allocated?: number;
  ready?: number;
  /** Pending until every member is Ready, then Running. */
  phase?: string;
  conditions?: Condition[];
}
export interface BatchSandbox extends KubeObject { spec: BatchSandboxSpec; status?: BatchSandboxStatus }
