// Parameters of agentbox's admission guardrails (deploy/helm/agentbox-operator/files/guardrails/
// policies.yaml, docs/kubernetes-guardrails.md): the RuntimeClasses a sandbox pod may name, so an
// admin changes them by editing one object, never a policy. A kind of its own, not a ConfigMap:
// while the last binding with a core-type paramKind is gone, kube-apiserver stops that kind's
// parameter informer for good and then refuses every request with "no params found" until it
// restarts (kubernetes/kubernetes#130887, #133827); CRD paramKinds get a fresh informer each time.
import type { SingleVersionKindDef } from './opensandbox-schemas.ts';

export const GUARDRAIL_PARAMETERS: SingleVersionKindDef = {
  group: 'agentbox.dev', kind: 'GuardrailParameters', plural: 'guardrailparameters', singular: 'guardrailparameters',
  shortNames: [], version: 'v1alpha1',
  def: {
    status: false,
    printerColumns: [{ name: 'RUNTIME-CLASSES', type: 'string', jsonPath: '.spec.allowedRuntimeClasses' }],
    schema: {
      type: 'object', required: ['spec'],
      properties: {
        apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
        spec: {
          type: 'object', required: ['allowedRuntimeClasses'],
          properties: {
            allowedRuntimeClasses: {
              type: 'array', maxItems: 64, 'x-kubernetes-list-type': 'set',
              description: 'RuntimeClass names a sandbox pod may name (policy agentbox-runtime-class).',
              items: { type: 'string', minLength: 1, maxLength: 253 },
            },
          },
        },
      },
    },
  },
};
