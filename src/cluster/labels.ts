/**
 * The labels and annotations the Kubernetes backend puts on the objects it owns. Everything a
 * replica needs is on the objects themselves, so any replica of the server can serve any request
 * (docs/kubernetes.md, "State in the cluster").
 */
import { LABEL } from '../api/k8s/constants.ts';

export const CLUSTER_LABEL = {
  /** On a SandboxClaim made by agentbox, and on a volume's PVC: the tenant id it belongs to. */
  tenant: LABEL.tenant,
  /** On a SandboxClaim: the SandboxTemplate asked for (the claim itself names a pool). */
  template: 'agentbox.dev/template',
  /** On a Secret: it holds one API key's hash. */
  apiKey: 'agentbox.dev/api-key',
  /** On a ConfigMap: it records one tenant. */
  tenantRecord: 'agentbox.dev/tenant-record',
  /** On a SandboxWarmPool of 0 replicas that agentbox made so claims of a pool-less template bind. */
  coldPool: 'agentbox.dev/cold-pool',
} as const;

export const CLUSTER_ANNOTATION = {
  /** The sandbox's metadata map as JSON (annotation values hold any string; labels do not). */
  metadata: 'agentbox.dev/metadata',
  /** The timeout the sandbox was given, in seconds (the claim holds only the instant). */
  timeoutSeconds: 'agentbox.dev/timeout-seconds',
  /**
   * `pause_filesystem`: the sandbox pauses by suspending its Sandbox (pod deleted, volumes kept).
   * Its timeout is then `expiresAt` below, acted on by the server (the claim's shutdownTime would
   * delete it); absent: kill at the claim's shutdownTime.
   */
  onTimeout: 'agentbox.dev/on-timeout',
  /** Filesystem-pause sandboxes: when the timeout pauses it (RFC 3339); absent while paused. */
  expiresAt: 'agentbox.dev/expires-at',
} as const;
