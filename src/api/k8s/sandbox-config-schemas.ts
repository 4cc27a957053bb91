// SandboxConfig (issue #14 item 7, after agent-substrate's design): a cluster-scoped object per
// sandbox class that says which runtime build its nodes run, one asset per CPU architecture, each
// with the sha256 the node agent verifies before it installs the binary. Cluster-scoped because a
// node serves every namespace; at most one `default: true` per class (the admission policy
// agentbox-sandbox-config-default, deploy/helm/agentbox-operator/files/guardrails/policies.yaml).
// The schema itself refuses an asset without a well-formed sha256 or with a URL the node agent
// cannot fetch, so a SandboxConfig is safe to install from with or without the guardrails.
import type { SingleVersionKindDef } from './opensandbox-schemas.ts';
import type { Schema } from './schemas.ts';

export const SANDBOX_CLASSES = ['gvisor', 'microvm'] as const;
export const ASSET_ARCHITECTURES = ['amd64', 'arm64'] as const;
/** Lower-case hex, as `sha256sum` prints it. */
export const SHA256_PATTERN = '^[a-f0-9]{64}$';

const asset: Schema = {
  type: 'object', required: ['url', 'sha256'],
  properties: {
    url: {
      type: 'string', maxLength: 2048,
      description: 'Where the node agent fetches the binary: https://, or file:/// for one already on the node.',
      'x-kubernetes-validations': [{ rule: "self.matches('^(https://|file:///)[^\\\\s]+$')", message: 'url must be an https:// or file:/// URL' }],
    },
    sha256: { type: 'string', pattern: SHA256_PATTERN, description: 'Hex sha256 of the binary at url (64 lower-case hex digits).' },
  },
};

export const SANDBOX_CONFIG: SingleVersionKindDef = {
  group: 'agentbox.dev', kind: 'SandboxConfig', plural: 'sandboxconfigs', singular: 'sandboxconfig',
  shortNames: ['sbxconfig'], version: 'v1alpha1', scope: 'Cluster',
  def: {
    status: false,
    printerColumns: [
      { name: 'CLASS', type: 'string', jsonPath: '.spec.class' },
      { name: 'DEFAULT', type: 'boolean', jsonPath: '.spec.default' },
      { name: 'VERSION', type: 'string', jsonPath: '.spec.runtime.version' },
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
      },
    },
  },
};
