// The node agent's API (`agentbox node`, src/k8s/node/): its routes' bodies, shared by the agent
// and its only client, the operator (src/k8s/node/client.ts). Every call carries the shared token
// as `Authorization: Bearer …`; errors are AgentboxError's JSON with its HTTP status.
import { z } from 'zod';

const name = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes object name');
const snapshotId = z.string().regex(/^snap-[a-z0-9]{16}$/, 'a snapshot id (snap-<16 [a-z0-9]>)');

export const NODE_AGENT_PORT = 7421;

/** POST /v1/checkpoints: checkpoint the gVisor sandbox of the pod with this UID (its containers end). */
export const CheckpointRequest = z.object({ namespace: name, name, uid: z.string().min(1).max(64) }).strict();
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

/** DELETE /v1/snapshots/<namespace>/<snapshotId>: the snapshot is restored, or no longer wanted. */
export const snapshotPath = (namespace: string, id: string) => `/v1/snapshots/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}`;
export const SNAPSHOT_PATH_RE = /^\/v1\/snapshots\/([^/]+)\/([^/]+)$/;
export const SnapshotKey = z.object({ namespace: name, snapshotId });

export type CheckpointRequest = z.infer<typeof CheckpointRequest>;
export type CheckpointResponse = z.infer<typeof CheckpointResponse>;
export type RestoreRequest = z.infer<typeof RestoreRequest>;
export type RestoreResponse = z.infer<typeof RestoreResponse>;
