// SandboxConfig (issue #14 item 7, after agent-substrate's design): a cluster-scoped object per
// sandbox class that says which runtime build its nodes run, one asset per CPU architecture, each
// with the sha256 the node agent verifies before it installs the binary. Cluster-scoped because a
// node serves every namespace; at most one `default: true` per class (the admission policy
// agentbox-sandbox-config-default, deploy/helm/agentbox-operator/files/guardrails/policies.yaml).
// The schema itself refuses an asset without a well-formed sha256 or with a URL the node agent
// cannot fetch, so a SandboxConfig is safe to install from with or without the guardrails.
import { z } from 'zod';
import type { SingleVersionKindDef } from './opensandbox-schemas.ts';
import { conditions, type Schema } from './schemas.ts';

export const SANDBOX_CLASSES = ['gvisor', 'microvm'] as const;
export const ASSET_ARCHITECTURES = ['amd64', 'arm64'] as const;
/** Lower-case hex, as `sha256sum` prints it. */
export const SHA256_PATTERN = '^[a-f0-9]{64}$';
/** Fetched over TLS, or already on the node (file:///path, no host). */
export const ASSET_URL_PATTERN = '^(https://|file:///)[^\\s]+$';
/** A node's state in a SandboxConfig's status: it runs the config's binary, or refused it (why in message). */
export const NODE_RUNTIME_PHASES = ['Installed', 'Failed'] as const;

const asset: Schema = {
  type: 'object', required: ['url', 'sha256'],
  properties: {
    url: { type: 'string', maxLength: 2048, pattern: ASSET_URL_PATTERN, description: 'Where the node agent fetches the binary: https://, or file:/// for one already on the node.' },
    sha256: { type: 'string', pattern: SHA256_PATTERN, description: 'Hex sha256 of the binary at url (64 lower-case hex digits).' },
  },
};

export const SANDBOX_CONFIG: SingleVersionKindDef = {
  group: 'agentbox.dev', kind: 'SandboxConfig', plural: 'sandboxconfigs', singular: 'sandboxconfig',
  shortNames: ['sbxconfig'], version: 'v1alpha1', scope: 'Cluster',
  def: {
    status: true,
    printerColumns: [
      { name: 'CLASS', type: 'string', jsonPath: '.spec.class' },
      { name: 'DEFAULT', type: 'boolean', jsonPath: '.spec.default' },
      { name: 'VERSION', type: 'string', jsonPath: '.spec.runtime.version' },
      { name: 'INSTALLED', type: 'integer', jsonPath: '.status.installedNodes', description: 'Nodes that run this config\'s binary.' },
      { name: 'READY', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
    schema: {
      type: 'object', required: ['spec'],
      properties: {
        apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
        spec: {
          type: 'object', required: ['class', 'runtime'],
          properties: {
            class: { type: 'string', enum: [...SANDBOX_CLASSES], description: 'The sandbox class this runtime serves.' },
            default: { type: 'boolean', description: 'The config of its class that nodes use unless told otherwise; at most one per class.' },
            runtime: {
              type: 'object', required: ['assets'],
              properties: {
                version: { type: 'string', maxLength: 128, description: 'The runtime release, as the snapshot manifest records it (e.g. runsc release-20250512.0).' },
                assets: {
                  type: 'object', minProperties: 1,
                  description: 'The binary per CPU architecture (GOARCH names).',
                  properties: Object.fromEntries(ASSET_ARCHITECTURES.map((arch) => [arch, asset])),
                },
              },
            },
          },
        },
        status: {
          type: 'object',
          description: "Written by the operator from what each node's agent reported (src/k8s/runtime/controller.ts).",
          properties: {
            observedGeneration: { type: 'integer', format: 'int64' },
            installedNodes: { type: 'integer', minimum: 0, description: 'How many nodes run the binary.' },
            nodes: {
              type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
              items: {
                type: 'object', required: ['name', 'phase'],
                properties: {
                  name: { type: 'string', description: 'The node.' },
                  phase: { type: 'string', enum: [...NODE_RUNTIME_PHASES] },
                  sha256: { type: 'string', description: 'sha256 of the binary the node runs now.' },
                  version: { type: 'string', description: 'The first line of `runsc --version` on the node.' },
                  message: { type: 'string', description: 'Why the node refused or could not install the binary.' },
                  lastTransitionTime: { type: 'string', format: 'date-time' },
                },
              },
            },
            conditions,
          },
        },
      },
    },
  },
};

/**
 * The same spec for the code that reads SandboxConfigs (src/k8s/runtime/controller.ts), built from
 * the same constants; sandbox-config-schemas.test.ts checks it against the CRD schema above.
 */
const AssetSpec = z.object({
  url: z.string().max(2048).regex(new RegExp(ASSET_URL_PATTERN)),
  sha256: z.string().regex(new RegExp(SHA256_PATTERN)),
});
export const SandboxConfigSpec = z.object({
  class: z.enum(SANDBOX_CLASSES),
  default: z.boolean().optional(),
  runtime: z.object({
    version: z.string().max(128).optional(),
    assets: z.object({ amd64: AssetSpec.optional(), arm64: AssetSpec.optional() })
      .refine((a) => Object.keys(a).length > 0, 'spec.runtime.assets must name at least one architecture'),
  }),
});
export type SandboxConfigSpec = z.infer<typeof SandboxConfigSpec>;
