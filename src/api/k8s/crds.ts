// Builds CustomResourceDefinition objects from the schemas in ./schemas.ts. Used by the CRD
// generator (deploy/crds) and by tests and the operator, which install or patch them.
import { GUARDRAIL_PARAMETERS } from './guardrail-schemas.ts';
import { SANDBOX_CONFIG } from './sandbox-config-schemas.ts';
import { SANDBOX_SNAPSHOT } from './snapshot-schemas.ts';
import { OPENSANDBOX_KINDS, type SingleVersionKindDef } from './opensandbox-schemas.ts';
import { ALL_KINDS, type KindDef, type VersionDef } from './schemas.ts';

/** Where the API server reaches the conversion webhook. */
export type WebhookTarget =
  | { service: { namespace: string; name: string; path: string; port: number } }
  | { url: string };

export const DEFAULT_WEBHOOK: WebhookTarget = {
  service: { namespace: 'agent-sandbox-system', name: 'agent-sandbox-webhook-service', path: '/convert', port: 443 },
};

export interface CrdOptions {
  webhook?: WebhookTarget;
  /** PEM CA bundle; the operator patches it in at start-up when it manages its certificates. */
  caBundlePem?: string;
}

export function crdName(kind: Pick<KindDef, 'plural' | 'group'>): string {
  return `${kind.plural}.${kind.group}`;
}

function version(name: string, def: VersionDef, storage: boolean, deprecated = !storage) {
  return {
    name,
    served: true,
    storage,
    ...(!deprecated ? {} : {
      deprecated: true,
      deprecationWarning: `${name} is deprecated; use v1beta1`,
    }),
    schema: { openAPIV3Schema: def.schema },
    ...(def.printerColumns ? { additionalPrinterColumns: def.printerColumns } : {}),
    subresources: {
      ...(def.status ? { status: {} } : {}),
      ...(def.scale ? { scale: def.scale } : {}),
    },
  };
}

/** The conversion stanza the operator sets on its CRDs (the in-cluster Service unless told). */
export function conversionSpec(opts: CrdOptions = {}) {
  const target = opts.webhook ?? DEFAULT_WEBHOOK;
  return {
    strategy: 'Webhook',
    webhook: {
      conversionReviewVersions: ['v1'],
      clientConfig: {
        ...target,
        ...(opts.caBundlePem ? { caBundle: Buffer.from(opts.caBundlePem).toString('base64') } : {}),
      },
    },
  };
}

/**
 * A CRD. Without `opts.webhook` it carries no `spec.conversion` (the API server defaults it to
 * `None`): the conversion stanza belongs to the operator, which serves the webhook and sets it at
 * start-up. A manifest that also declared it would fight the operator on every `kubectl apply`
 * (an out-of-cluster `--webhook-url` leaves `url` where the manifest says `service`, which the API
 * server refuses), so deploy/crds declares none and a re-apply leaves the operator's in place.
 */
export function buildCrd(kind: KindDef, opts: CrdOptions = {}) {
  return crdOf(kind, [version('v1beta1', kind.v1beta1, true), version('v1alpha1', kind.v1alpha1, false)], opts.webhook ? conversionSpec(opts) : undefined);
}

/** The CRD of a kind served at one version, nothing to convert (OpenSandbox's, the guardrail parameters, SandboxConfig, SandboxSnapshot). */
export function buildSingleVersionCrd(kind: SingleVersionKindDef) {
  return crdOf(kind, [version(kind.version, kind.def, true, false)]);
}

function crdOf(kind: Omit<KindDef, 'v1beta1' | 'v1alpha1'> & Pick<SingleVersionKindDef, 'scope'>, versions: ReturnType<typeof version>[], conversion?: ReturnType<typeof conversionSpec>) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind), labels: { 'app.kubernetes.io/part-of': 'agentbox' } },
    spec: {
      group: kind.group,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
      },
      scope: kind.scope ?? 'Namespaced',
      ...(conversion ? { conversion } : {}),
      versions,
    },
  };
}

/** agentbox's four kinds (with `opts`), then OpenSandbox's two, then the guardrail parameters, SandboxConfig and SandboxSnapshot. */
export function buildAllCrds(opts: CrdOptions = {}) {
  return [...ALL_KINDS.map((k) => buildCrd(k, opts)), ...[...OPENSANDBOX_KINDS, GUARDRAIL_PARAMETERS, SANDBOX_CONFIG, SANDBOX_SNAPSHOT].map(buildSingleVersionCrd)];
}
