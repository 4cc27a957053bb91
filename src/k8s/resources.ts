// Resource types of the agents.x-k8s.io kinds as the operator reads and writes them (hub version).
import { AGENTBOX_GROUP, AGENTBOX_VERSION, CORE_GROUP, EXT_GROUP, HUB_VERSION } from '../api/k8s/constants.ts';
import { OPENSANDBOX_GROUP, OPENSANDBOX_VERSION } from '../api/k8s/opensandbox.ts';
import type { ResourceType } from './client.ts';

export const SANDBOXES: ResourceType = { group: CORE_GROUP, version: HUB_VERSION, plural: 'sandboxes', kind: 'Sandbox' };
export const TEMPLATES: ResourceType = { group: EXT_GROUP, version: HUB_VERSION, plural: 'sandboxtemplates', kind: 'SandboxTemplate' };
export const CLAIMS: ResourceType = { group: EXT_GROUP, version: HUB_VERSION, plural: 'sandboxclaims', kind: 'SandboxClaim' };
export const WARM_POOLS: ResourceType = { group: EXT_GROUP, version: HUB_VERSION, plural: 'sandboxwarmpools', kind: 'SandboxWarmPool' };

/** The same resource served at another version (v1alpha1 clients, conversion tests). */
export function atVersion(rt: ResourceType, version: string): ResourceType {
  return { ...rt, version };
}

/** OpenSandbox's kinds, served at their only version (src/k8s/opensandbox/). */
export const POOLS: ResourceType = { group: OPENSANDBOX_GROUP, version: OPENSANDBOX_VERSION, plural: 'pools', kind: 'Pool' };
export const BATCH_SANDBOXES: ResourceType = { group: OPENSANDBOX_GROUP, version: OPENSANDBOX_VERSION, plural: 'batchsandboxes', kind: 'BatchSandbox' };

/** agentbox's SandboxSnapshot (src/api/k8s/snapshot-schemas.ts). */
export const SANDBOX_SNAPSHOTS: ResourceType = { group: AGENTBOX_GROUP, version: AGENTBOX_VERSION, plural: 'sandboxsnapshots', kind: 'SandboxSnapshot' };

/** agentbox's SandboxConfig (src/api/k8s/sandbox-config-schemas.ts), cluster-scoped. */
export const SANDBOX_CONFIGS: ResourceType = { group: AGENTBOX_GROUP, version: AGENTBOX_VERSION, plural: 'sandboxconfigs', kind: 'SandboxConfig' };
