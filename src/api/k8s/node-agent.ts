// The node agent's API (`agentbox node`, src/k8s/node/): its routes' bodies, shared by the agent
// and its only client, the operator (src/k8s/node/client.ts). Every call carries the shared token
// as `Authorization: Bearer …`; errors are AgentboxError's JSON with its HTTP status.
import { z } from 'zod';
import { ASSET_URL_PATTERN, SHA256_PATTERN } from './sandbox-config-schemas.ts';

const name = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes object name');
const snapshotId = z.string().regex(/^snap-[a-z0-9]{16}$/, 'a snapshot id (snap-<16 [a-z0-9]>)');

export const NODE_AGENT_PORT = 7421;

/** POST /v1/checkpoints: checkpoint the gVisor sandbox of the pod with this UID (its containers end, unless leaveRunning). */
export const CheckpointRequest = z.object({
  namespace: name, name, uid: z.string().min(1).max(64),
  /** Fork: the pod goes on running after its checkpoint (runsc checkpoint --leave-running). */
  leaveRunning: z.boolean().optional(),
}).strict();
export const CheckpointResponse = z.object({
  snapshotId, node: z.string(), sizeBytes: z.number(), checkpointMs: z.number(), sealMs: z.number(),
  /** sha256 of the sealed manifest.json, which pins the runsc binary and every image file's sha256. */
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Node: on this node only; S3: also in the node agents' object store, restorable on any node. */
  storage: z.enum(['Node', 'S3']),
  /** Where the data is: `node://<node><directory>`, or `s3://<bucket>/<key prefix>`. */
  location: z.string(),
});

/** POST /v1/restores: verify a snapshot for the pod to be made from it, and grant that pod the restore. */
export const RestoreRequest = z.object({
  namespace: name, name, snapshotId,
  containers: z.array(z.object({ name: z.string().min(1), image: z.string().min(1) })).min(1),
}).strict();
/** `restoreFrom` is the value of the new pod's `agentbox.dev/restore-from` annotation. */
export const RestoreResponse = z.object({ restoreFrom: z.string(), verifyMs: z.number() });

/**
 * DELETE /v1/restores/<namespace>/<snapshotId>/<pod>: the pod restored from the snapshot runs, so
 * its grant goes (a snapshot another Sandbox keeps, such as a golden one, outlives the restore;
 * a container of the pod that restarts must start fresh, not restore again).
 */
export const restoreGrantPath = (namespace: string, id: string, pod: string) => `/v1/restores/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}/${encodeURIComponent(pod)}`;
export const RESTORE_GRANT_PATH_RE = /^\/v1\/restores\/([^/]+)\/([^/]+)\/([^/]+)$/;
export const GrantKey = z.object({ namespace: name, snapshotId, name });

/** DELETE /v1/snapshots/<namespace>/<snapshotId>: the snapshot is restored, or no longer wanted. */
export const snapshotPath = (namespace: string, id: string) => `/v1/snapshots/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}`;
export const SNAPSHOT_PATH_RE = /^\/v1\/snapshots\/([^/]+)\/([^/]+)$/;
export const SnapshotKey = z.object({ namespace: name, snapshotId });

export type CheckpointRequest = z.infer<typeof CheckpointRequest>;
export type CheckpointResponse = z.infer<typeof CheckpointResponse>;
export type RestoreRequest = z.infer<typeof RestoreRequest>;
export type RestoreResponse = z.infer<typeof RestoreResponse>;

/**
 * PUT /v1/runtime: install the runsc binary a SandboxConfig names (src/k8s/runtime/) and make it
 * the one the node's runsc wrapper runs. The agent fetches `url`, refuses anything whose sha256 is
 * not `sha256` or that does not run as runsc, and keeps the binary it had in that case.
 */
export const RuntimeInstallRequest = z.object({
  config: name,
  url: z.string().max(2048).regex(new RegExp(ASSET_URL_PATTERN), 'an https:// or file:/// URL'),
  sha256: z.string().regex(new RegExp(SHA256_PATTERN), '64 lower-case hex digits'),
}).strict();
/** The runtime a node runs now (also GET /v1/runtime); `config` is unset while it runs the binary it was started with. */
export const RuntimeState = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The first line of `runsc --version`. */
  version: z.string(),
  config: z.string().optional(),
  /** False when the node already ran this binary. */
  changed: z.boolean(),
});
export const RUNTIME_PATH = '/v1/runtime';

export type RuntimeInstallRequest = z.infer<typeof RuntimeInstallRequest>;
export type RuntimeState = z.infer<typeof RuntimeState>;
