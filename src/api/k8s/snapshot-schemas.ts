// SandboxSnapshot (issue #14 item 3): one object per memory snapshot of a Sandbox's gVisor pod, in
// the Sandbox's namespace, so snapshots are listed, inspected and deleted with kubectl like any
// other object. The operator creates one for every checkpoint (memory hibernation) and owns it
// through the Sandbox; its finalizer has the node agent remove the data before the object goes,
// so deleting the object (or its Sandbox) deletes the snapshot (docs/kubernetes-hibernation.md).
import type { SingleVersionKindDef } from './opensandbox-schemas.ts';
import { AGENTBOX_GROUP, AGENTBOX_VERSION } from './constants.ts';
import { conditions, type Schema } from './schemas.ts';

/** Ready: its data is complete (the operator writes the object once the checkpoint is sealed). */
export const SNAPSHOT_PHASES = ['Ready'] as const;
/** Where a snapshot's data lives: on the node that took it, or also in an S3-compatible bucket. */
export const SNAPSHOT_STORAGE = ['Node', 'S3'] as const;

const str: Schema = { type: 'string' };
const bytes: Schema = { type: 'integer', format: 'int64', minimum: 0 };

export const SANDBOX_SNAPSHOT: SingleVersionKindDef = {
  group: AGENTBOX_GROUP, kind: 'SandboxSnapshot', plural: 'sandboxsnapshots', singular: 'sandboxsnapshot',
  shortNames: ['sbxsnap'], version: AGENTBOX_VERSION,
  def: {
    status: true,
    printerColumns: [
      { name: 'SANDBOX', type: 'string', jsonPath: '.spec.sandboxName' },
      { name: 'PHASE', type: 'string', jsonPath: '.status.phase' },
      { name: 'NODE', type: 'string', jsonPath: '.status.node' },
      { name: 'SIZE', type: 'integer', jsonPath: '.status.sizeBytes', description: 'Bytes of checkpoint images.' },
      { name: 'STORAGE', type: 'string', jsonPath: '.status.storage' },
      { name: 'LOCATION', type: 'string', jsonPath: '.status.location', priority: 1 },
      { name: 'DIGEST', type: 'string', jsonPath: '.status.manifestSha256', priority: 1 },
      { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema: {
      type: 'object', required: ['spec'],
      properties: {
        apiVersion: str, kind: str, metadata: { type: 'object' },
        spec: {
          type: 'object', required: ['sandboxName'],
          properties: {
            sandboxName: { type: 'string', minLength: 1, maxLength: 253, description: 'The Sandbox (same namespace) whose pod the snapshot is of.' },
          },
          'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'spec is immutable: a snapshot is of one Sandbox' }],
        },
        status: {
          type: 'object',
          properties: {
            phase: { type: 'string', enum: [...SNAPSHOT_PHASES], description: 'Ready once its data is complete and sealed by its manifest.' },
            snapshotId: { ...str, description: "The node agent's id of the data (snap-<16 [a-z0-9]>)." },
            node: { ...str, description: 'The node that took it, whose agent holds and deletes the data.' },
            sizeBytes: { ...bytes, description: 'Total size of the checkpoint image files.' },
            storage: { type: 'string', enum: [...SNAPSHOT_STORAGE], description: 'Node: on the node that took it; S3: also in the node agents\' S3-compatible bucket, so any node can restore it.' },
            location: { ...str, description: 'Where the data is: node://<node><directory>, or s3://<bucket>/<key prefix>.' },
            manifestSha256: { ...str, description: "sha256 of the snapshot's manifest.json (runsc binary and sha256 of every image file)." },
            conditions,
          },
        },
      },
    },
  },
};
