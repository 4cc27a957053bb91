// Vocabulary of the agents.x-k8s.io API (kubernetes-sigs/agent-sandbox compatible).
// Every string here is published API: label keys, condition types and reasons never change once
// released, because manifests, SDKs and dashboards match on them verbatim.

export const CORE_GROUP = 'agents.x-k8s.io';
export const EXT_GROUP = 'extensions.agents.x-k8s.io';
/** Storage version and conversion hub. */
export const HUB_VERSION = 'v1beta1';
/** agentbox's own kinds (snapshots, guardrail parameters, SandboxConfig), served at one version. */
export const AGENTBOX_GROUP = 'agentbox.dev';
export const AGENTBOX_VERSION = 'v1alpha1';

/** apiVersion and kind of an object (Kubernetes TypeMeta), as owner references and events name it. */
export interface TypeMeta { apiVersion: string; kind: string }

/** The four kinds at the hub version, and agentbox's SandboxSnapshot; the one place their apiVersion strings are spelled. */
export const KIND = {
  Sandbox: { apiVersion: `${CORE_GROUP}/${HUB_VERSION}`, kind: 'Sandbox' },
  SandboxTemplate: { apiVersion: `${EXT_GROUP}/${HUB_VERSION}`, kind: 'SandboxTemplate' },
  SandboxClaim: { apiVersion: `${EXT_GROUP}/${HUB_VERSION}`, kind: 'SandboxClaim' },
  SandboxWarmPool: { apiVersion: `${EXT_GROUP}/${HUB_VERSION}`, kind: 'SandboxWarmPool' },
  SandboxSnapshot: { apiVersion: `${AGENTBOX_GROUP}/${AGENTBOX_VERSION}`, kind: 'SandboxSnapshot' },
  SandboxConfig: { apiVersion: `${AGENTBOX_GROUP}/${AGENTBOX_VERSION}`, kind: 'SandboxConfig' },
} as const satisfies Record<string, TypeMeta>;

export const LABEL = {
  /** FNV-1a-32 hex of the Sandbox name; Service selector and router cache filter. */
  sandboxNameHash: 'agents.x-k8s.io/sandbox-name-hash',
  /** NameHash(template name); NetworkPolicy podSelector. */
  templateRefHash: 'agents.x-k8s.io/sandbox-template-ref-hash',
  /** NameHash(pool name) on warm, unclaimed Sandboxes and their pods; removed on adoption. */
  warmPoolSandbox: 'agents.x-k8s.io/warm-pool-sandbox',
  /** Hash of the JSON of the SandboxBlueprint a warm member was made from (staleness). */
  templateHash: 'agents.x-k8s.io/sandbox-template-hash',
  /** Deprecated: hash of the JSON of the PodTemplate. Still written for old tooling. */
  podTemplateHash: 'agents.x-k8s.io/sandbox-pod-template-hash',
  launchType: 'agents.x-k8s.io/launch-type',
  createdBy: 'agents.x-k8s.io/created-by',
  claimUid: 'agents.x-k8s.io/claim-uid',
  /** agentbox, on the golden Sandbox of a golden-snapshot warm pool: NameHash(pool name). */
  goldenOf: 'agentbox.dev/golden-of',
  /** "true" on an unowned Pod/Service/PVC authorises adoption by a Sandbox. */
  adoptable: 'agents.x-k8s.io/adoptable',
  /** agentbox, on a SandboxClaim (and on a volume's PVC): the tenant of the agentbox server it belongs to. */
  tenant: 'agentbox.dev/tenant',
  /** agentbox, on a PersistentVolumeClaim: `true` when it is a volume of the server's Volumes API (docs/volumes.md). */
  volume: 'agentbox.dev/volume',
} as const;

export const ANNOTATION = {
  podName: 'agents.x-k8s.io/pod-name',
  templateRef: 'agents.x-k8s.io/sandbox-template-ref',
  propagatedLabels: 'agents.x-k8s.io/propagated-labels',
  propagatedAnnotations: 'agents.x-k8s.io/propagated-annotations',
  /** On a claim: the sandbox it is bound to. Written before the Sandbox is patched, so an
   * interrupted adoption is finished, never abandoned. */
  sandboxName: 'agents.x-k8s.io/sandbox-name',
  controllerFirstObservedAt: 'agents.x-k8s.io/controller-first-observed-at',
  claimFirstReadyAt: 'agents.x-k8s.io/claim-first-ready-at',
  clientFirstRequestedAt: 'agents.x-k8s.io/client-first-requested-at',
  /** Set by an optional external mutating webhook at admission (end-to-end latency metric). */
  webhookFirstObservedAt: 'agents.x-k8s.io/webhook-first-observed-at',
  traceContext: 'opentelemetry.io/trace-context',
  safeToEvict: 'cluster-autoscaler.kubernetes.io/safe-to-evict',
  /** Lossless v1alpha1 round trip: the whole v1alpha1 object as JSON, kept on the hub. */
  v1alpha1SandboxState: 'api.agents.x-k8s.io/v1alpha1-sandbox-state',
  v1alpha1ClaimState: 'api.agents.x-k8s.io/v1alpha1-sandboxclaim-state',
  /** agentbox, on a claim: the SandboxTemplate its warm pool named when the claim was last
   * reconciled. The v1alpha1 view (`spec.sandboxTemplateRef`) is converted from it, so that view
   * is a function of the object alone, never of what some cache has seen of the pool. */
  claimTemplate: 'agentbox.dev/sandbox-template',
  /** agentbox: inject the guest daemon into pods of this template (OpenSandbox pool pattern). */
  injectGuest: 'agentbox.dev/inject-guest',
  /** agentbox, beside injectGuest: the image's user that commands run as when a caller names none
   * (E2B's SDKs name none and expect the image's `user`); root when absent. */
  defaultUser: 'agentbox.dev/default-user',
  /** agentbox, on a Sandbox or its pod template: `memory` keeps memory and processes across a
   * suspend (docs/kubernetes-hibernation.md). */
  hibernation: 'agentbox.dev/hibernation',
  /** agentbox, beside hibernation: `cold-start` lets a sandbox whose checkpoint or restore failed
   * lose its memory (suspend anyway, or start fresh); without it the operator waits and says why. */
  hibernationFallback: 'agentbox.dev/hibernation-fallback',
  /** agentbox, on a suspended Sandbox: its memory snapshot, `{"id","node","podUid"}` (JSON). */
  hibernationSnapshot: 'agentbox.dev/hibernation-snapshot',
  /** agentbox, on a pod: the snapshot directory its containers are restored from (the runsc
   * wrapper reads it, src/k8s/node/wrapper.ts). Only the operator sets it. */
  restoreFrom: 'agentbox.dev/restore-from',
  /** agentbox, on a new Sandbox: the running Sandbox (same namespace) to fork, whose memory,
   * processes and files it starts from (docs/kubernetes-hibernation.md). */
  forkFrom: 'agentbox.dev/fork-from',
  /** agentbox, on a forked Sandbox: the fork was taken (`{"from","snapshot","at"}`, JSON), so a
   * later pod of it starts as any pod does and never forks again. Only the operator sets it. */
  forked: 'agentbox.dev/forked',
  /** agentbox, on a SandboxWarmPool: `true` fills the pool from one memory snapshot of a golden
   * Sandbox of its template, taken once it is Ready (k8s/extensions/golden-snapshot.ts). */
  goldenSnapshot: 'agentbox.dev/golden-snapshot',
  /** agentbox, on a Sandbox: suspend it after this many seconds without traffic through the
   * router, and resume it when a request arrives (docs/kubernetes-hibernation.md). */
  suspendAfterIdle: 'agentbox.dev/suspend-after-idle',
  /** agentbox, on a Sandbox: when the router last saw traffic for it (RFC 3339); the router
   * keeps it current while requests or connections are open. */
  lastActivity: 'agentbox.dev/last-activity',
  /** agentbox, on a Sandbox the operator suspended for being idle: `idle`. */
  suspendedBy: 'agentbox.dev/suspended-by',
  /** agentbox, on a volume's PersistentVolumeClaim: the volume's name in the Volumes API (names
   * may hold `_` and capitals, which object names may not). */
  volumeName: 'agentbox.dev/volume-name',
  /**
   * agentbox, on a SandboxClaim: the volumes (PVCs labelled `agentbox.dev/volume` of the claim's
   * tenant) its pod mounts, `[{"claimName","path"}]` (JSON). A SandboxClaim has no field for
   * existing volumes (its volumeClaimTemplates make new PVCs per sandbox), so the operator reads
   * this when it makes the claim's Sandbox (k8s/extensions/claim-inputs.ts).
   */
  volumeMounts: 'agentbox.dev/volume-mounts',
} as const;

export const SUSPENDED_BY_IDLE = 'idle';

export const HIBERNATION_MEMORY = 'memory';

/** The access modes a volume's PVC may ask for (docs/volumes.md); several sandboxes mount one volume, so never ReadWriteOncePod. */
export const VOLUME_ACCESS_MODES = ['ReadWriteOnce', 'ReadWriteMany'] as const;
export type VolumeAccessMode = typeof VOLUME_ACCESS_MODES[number];
export const HIBERNATION_FALLBACK_COLD_START = 'cold-start';

/** Prefixes tenants may not set through podTemplate metadata (Service selector spoofing). */
export const RESERVED_PREFIXES = ['agents.x-k8s.io/', 'extensions.agents.x-k8s.io/'];
export const RESERVED_KEYS: readonly string[] = [ANNOTATION.traceContext, ANNOTATION.restoreFrom, ANNOTATION.hibernationSnapshot];

export const LAUNCH_COLD = 'cold';
export const LAUNCH_WARM = 'warm';

export const CONDITION = {
  /**
   * Ready. True/DependenciesReady: pod Running + PodReady + an IP (+ Service when required).
   * False reasons: DependenciesNotReady (provisioning), SandboxSuspended, PodSucceeded, PodFailed,
   * SandboxExpired, MultiplePods (refuses to choose), ReconcilerError ("Error seen: …").
   * On claims additionally: TemplateNotFound, WarmPoolNotFound, AdoptionConflict,
   * SandboxCreatePending, InvalidMetadata, EnvVarsInjectionRejected, VolumeClaimTemplatesError,
   * ClaimExpired, SandboxExpired, SandboxMissing, SandboxNotReady.
   */
  ready: 'Ready',
  /** Suspended. False/NotSuspended while running; True/PodTerminated once the pod is gone;
   * False/PodTerminating while it goes; False/PodNotOwned; Unknown/PodStateUnknown. */
  suspended: 'Suspended',
  /** Finished. True/PodSucceeded|PodFailed, present only while the owned pod is terminal. */
  finished: 'Finished',
  /** Mirrored verbatim from the pod; absent without a pod. */
  podScheduled: 'PodScheduled',
  /** Warm pool (agentbox addition): every member matches the current template. */
  rolledOut: 'RolledOut',
  /** Memory hibernation (agentbox): True/Checkpointed while suspended with its memory,
   * True/Restoring then True/Restored after resume; False/CheckpointFailed, False/RestoreFailed
   * with the reason (and whether memory was given up under hibernation-fallback). */
  hibernated: 'Hibernated',
  /** Golden-snapshot warm pool (agentbox): True/GoldenSnapshotStored once members can restore the
   * golden Sandbox's snapshot; False/GoldenSnapshotPending on the way, False/GoldenSnapshotFailed. */
  goldenSnapshotReady: 'GoldenSnapshotReady',
} as const;

export const REASON = {
  dependenciesReady: 'DependenciesReady',
  dependenciesNotReady: 'DependenciesNotReady',
  sandboxSuspended: 'SandboxSuspended',
  podSucceeded: 'PodSucceeded',
  podFailed: 'PodFailed',
  sandboxExpired: 'SandboxExpired',
  multiplePods: 'MultiplePods',
  reconcilerError: 'ReconcilerError',
  notSuspended: 'NotSuspended',
  podTerminated: 'PodTerminated',
  podTerminating: 'PodTerminating',
  podNotOwned: 'PodNotOwned',
  podStateUnknown: 'PodStateUnknown',
  podScheduledFallback: 'PodScheduled',
  podSchedulingUnknown: 'PodSchedulingUnknown',
  templateNotFound: 'TemplateNotFound',
  warmPoolNotFound: 'WarmPoolNotFound',
  adoptionConflict: 'AdoptionConflict',
  sandboxCreatePending: 'SandboxCreatePending',
  invalidMetadata: 'InvalidMetadata',
  envVarsInjectionRejected: 'EnvVarsInjectionRejected',
  volumeClaimTemplatesError: 'VolumeClaimTemplatesError',
  /** agentbox: the claim's `agentbox.dev/volume-mounts` is malformed or names a PVC it may not
   * mount. "Failed", so the server reports the create failed at once (cluster/claim-view.ts). */
  volumeMountFailed: 'VolumeMountFailed',
  claimExpired: 'ClaimExpired',
  sandboxMissing: 'SandboxMissing',
  sandboxNotReady: 'SandboxNotReady',
  /** Warm pool rollout (agentbox): all members current / some members stale. */
  upToDate: 'UpToDate',
  staleMembers: 'StaleMembers',
  checkpointed: 'Checkpointed',
  checkpointFailed: 'CheckpointFailed',
  restoring: 'Restoring',
  restored: 'Restored',
  restoreFailed: 'RestoreFailed',
  /** A fork's snapshot of its source's running pod was taken / could not be. */
  forked: 'Forked',
  forkFailed: 'ForkFailed',
  goldenSnapshotStored: 'GoldenSnapshotStored',
  goldenSnapshotPending: 'GoldenSnapshotPending',
  goldenSnapshotFailed: 'GoldenSnapshotFailed',
  /** Event: the operator suspended an idle Sandbox; and a suspend-after-idle it cannot read. */
  suspendedIdle: 'SuspendedIdle',
  invalidIdleSetting: 'InvalidIdleSetting',
} as const;

/** Claim reasons after which waiting is pointless (the Python SDK fails fast on them). */
export const TERMINAL_CLAIM_REASONS: readonly string[] = [
  REASON.invalidMetadata, REASON.envVarsInjectionRejected, REASON.volumeClaimTemplatesError,
  REASON.claimExpired, REASON.sandboxExpired, REASON.templateNotFound, REASON.warmPoolNotFound,
];

export const OPERATING_MODE = { running: 'Running', suspended: 'Suspended' } as const;
export const SHUTDOWN_POLICY = { delete: 'Delete', deleteForeground: 'DeleteForeground', retain: 'Retain' } as const;
export const UPDATE_STRATEGY = { recreate: 'Recreate', onReplenish: 'OnReplenish' } as const;

/** Namespace and labels of the router that the default NetworkPolicy lets in. */
export const ROUTER_NAMESPACE = 'agent-sandbox-system';
export const ROUTER_APP_LABEL = 'sandbox-router';
export const DEFAULT_LABEL_DOMAIN_ALLOWLIST = ['sandbox.users.io'];
