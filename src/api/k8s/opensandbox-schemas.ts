// OpenAPI v3 schemas of OpenSandbox's Pool and BatchSandbox (v1alpha1 only, as upstream serves
// them), generated into deploy/crds like agentbox's own kinds (scripts/k8s-crds.ts). Pod templates
// are schemaless upstream (x-kubernetes-preserve-unknown-fields), so upstream manifests apply
// unchanged; the operator builds agentbox Sandboxes from them, whose schema is checked then.
import type { PrinterColumn, Schema, VersionDef } from './schemas.ts';

const str: Schema = { type: 'string' };
const int32 = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
const count: Schema = int32({ minimum: 0 });
const generation: Schema = { type: 'integer', format: 'int64' };
const schemaless: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const intOrPercent: Schema = { 'x-kubernetes-int-or-string': true };
const obj = (properties: Record<string, Schema>, required?: string[]): Schema =>
  ({ type: 'object', properties, ...(required ? { required } : {}) });
const root = (spec: Schema, status: Schema): Schema =>
  obj({ apiVersion: str, kind: str, metadata: { type: 'object' }, spec, status }, ['spec']);
const col = (name: string, jsonPath: string, type = 'integer'): PrinterColumn => ({ name, type, jsonPath });
const ageCol = col('AGE', '.metadata.creationTimestamp', 'date');

/** A kind served at one version, with no conversion. */
export interface SingleVersionKindDef {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  version: string;
  /** Namespaced unless said. */
  scope?: 'Namespaced' | 'Cluster';
  def: VersionDef;
}

const group = 'sandbox.opensandbox.io';

export const POOL: SingleVersionKindDef = {
  group, kind: 'Pool', plural: 'pools', singular: 'pool', shortNames: [], version: 'v1alpha1',
  def: {
    status: true,
    printerColumns: [col('TOTAL', '.status.total'), col('ALLOCATED', '.status.allocated'),
      col('AVAILABLE', '.status.available'), col('UPDATED', '.status.updated'), ageCol],
    schema: root(obj({
      template: schemaless,
      capacitySpec: {
        ...obj({ bufferMax: count, bufferMin: count, poolMax: count, poolMin: count }, ['bufferMax', 'bufferMin', 'poolMax', 'poolMin']),
        'x-kubernetes-validations': [
          { rule: 'self.bufferMin <= self.bufferMax', message: 'bufferMin must not exceed bufferMax' },
          { rule: 'self.poolMin <= self.poolMax', message: 'poolMin must not exceed poolMax' },
        ],
      },
      scaleStrategy: obj({ maxUnavailable: intOrPercent }),
      updateStrategy: obj({ maxUnavailable: intOrPercent }),
      recycleStrategy: obj({ type: { type: 'string', enum: ['Delete', 'Restart', 'Noop'], default: 'Delete' } }),
    }, ['capacitySpec']), obj({
      observedGeneration: generation, revision: str,
      total: count, allocated: count, available: count, updated: count,
    })),
  },
};

export const BATCH_SANDBOX: SingleVersionKindDef = {
  group, kind: 'BatchSandbox', plural: 'batchsandboxes', singular: 'batchsandbox', shortNames: ['bsbx'], version: 'v1alpha1',
  def: {
    status: true,
    printerColumns: [col('DESIRED', '.spec.replicas'), col('TOTAL', '.status.replicas'), col('ALLOCATED', '.status.allocated'),
      col('READY', '.status.ready'), col('EXPIRE_TIME', '.spec.expireTime', 'string'), ageCol],
    schema: root({
      ...obj({
        replicas: int32({ minimum: 0, default: 1 }),
        poolRef: str,
        template: schemaless,
        shardPatches: { type: 'array', items: schemaless },
        expireTime: { type: 'string', format: 'date-time' },
        taskTemplate: schemaless,
        shardTaskPatches: { type: 'array', items: schemaless },
        taskResourcePolicyWhenCompleted: { type: 'string', enum: ['Retain', 'Release'], default: 'Retain' },
        pause: { type: 'boolean' },
      }),
      'x-kubernetes-validations': [{ rule: 'has(self.poolRef) != has(self.template)', message: 'exactly one of poolRef and template must be set' }],
    }, obj({
      observedGeneration: generation, replicas: count, allocated: count, ready: count,
      taskRunning: count, taskSucceed: count, taskFailed: count, taskPending: count, taskUnknown: count,
      phase: str,
      conditions: { type: 'array', items: schemaless },
    })),
  },
};

export const OPENSANDBOX_KINDS: readonly SingleVersionKindDef[] = [POOL, BATCH_SANDBOX];
