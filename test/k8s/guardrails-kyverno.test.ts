// The Kyverno examples (deploy/examples/kyverno/guardrails.yaml) stay equivalent in scope to the
// shipped ValidatingAdmissionPolicies: well-formed ClusterPolicies, one per policy and of the same
// name, enforcing on the same kinds, operations and namespace label (none for the cluster-scoped
// SandboxConfig), reading the same GuardrailParameters. No Kyverno runs here, so what the rules decide is documented, not tested;
// the policies themselves are tested on the API server in guardrails.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BATCH_SANDBOXES, POOLS, SANDBOXES, TEMPLATES } from '../../src/k8s/resources.ts';
import { SANDBOX_CONFIGS } from './sandbox-config-fixture.ts';
import { parseManifests } from './manifests.ts';

const root = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${root}/${path}`, 'utf8');

interface Rule {
  name: string;
  match: { any: { resources: { kinds: string[]; operations: string[]; namespaceSelector?: unknown } }[] };
  context?: { name: string; apiCall?: { urlPath: string } }[];
  validate: { failureAction: string; message: string; pattern?: unknown; deny?: unknown };
}
interface Doc { apiVersion: string; kind: string; metadata: { name: string }; spec: { rules?: Rule[]; policyName?: string; paramRef?: { name?: string; namespace?: string; selector?: unknown; parameterNotFoundAction?: string }; matchResources?: { namespaceSelector: unknown }; matchConstraints?: { resourceRules: { apiGroups: string[]; resources: string[]; operations: string[] }[] } } }

const kyverno = parseManifests<Doc>(read('deploy/examples/kyverno/guardrails.yaml'));
const policies = parseManifests<Doc>(read('deploy/helm/agentbox-operator/files/guardrails/policies.yaml'));
const bindings = parseManifests<Doc>(read('deploy/kustomize/guardrails/bindings.yaml'));
const params = parseManifests<Doc & { metadata: { namespace: string } }>(read('deploy/kustomize/guardrails/params.yaml'))[0]!;

// Kyverno's name (group/*/Kind) of each resource the policies match.
const KIND_OF = new Map([SANDBOXES, TEMPLATES, POOLS, BATCH_SANDBOXES, SANDBOX_CONFIGS].map((rt) => [`${rt.group}/${rt.plural}`, `${rt.group}/*/${rt.kind}`]));

describe('Kyverno examples of the guardrails', () => {
  it('are kyverno.io/v1 ClusterPolicies, one per ValidatingAdmissionPolicy and of its name', () => {
    assert.ok(kyverno.every((d) => d.apiVersion === 'kyverno.io/v1' && d.kind === 'ClusterPolicy'), kyverno.map((d) => `${d.apiVersion} ${d.kind}`).join(', '));
    assert.deepEqual(kyverno.map((d) => d.metadata.name).sort(), policies.map((p) => p.metadata.name).sort());
  });

  for (const policy of policies) {
    it(`${policy.metadata.name}: enforces on the same kinds, operations and namespaces, each rule with a message`, () => {
      const example = kyverno.find((d) => d.metadata.name === policy.metadata.name)!;
      const binding = bindings.find((b) => b.spec.policyName === policy.metadata.name)!;
      const kinds = new Set<string>();
      for (const rule of example.spec.rules!) {
        assert.equal(rule.validate.failureAction, 'Enforce', rule.name);
        assert.ok(rule.validate.message.length > 20, `${rule.name} says what is wrong`);
        assert.ok(rule.validate.pattern || rule.validate.deny, `${rule.name} validates something`);
        for (const m of rule.match.any) {
          assert.deepEqual(m.resources.namespaceSelector, binding.spec.matchResources?.namespaceSelector, rule.name);
          for (const r of policy.spec.matchConstraints!.resourceRules) assert.deepEqual(m.resources.operations, r.operations, rule.name);
          for (const k of m.resources.kinds) kinds.add(k);
        }
      }
      const want = policy.spec.matchConstraints!.resourceRules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => KIND_OF.get(`${g}/${res}`))));
      assert.deepEqual([...kinds].sort(), want.sort());
    });
  }

  it('agentbox-runtime-class reads the GuardrailParameters the binding names', () => {
    const binding = bindings.find((b) => b.metadata.name === 'agentbox-runtime-class')!;
    assert.deepEqual([binding.spec.paramRef!.namespace, binding.spec.paramRef!.name], [params.metadata.namespace, params.metadata.name]);
    const calls = kyverno.find((d) => d.metadata.name === 'agentbox-runtime-class')!.spec.rules!.map((r) => r.context?.find((c) => c.name === 'allowed')?.apiCall?.urlPath);
    assert.deepEqual(calls, calls.map(() => `/apis/${params.apiVersion}/namespaces/${params.metadata.namespace}/guardrailparameters/${params.metadata.name}`));
  });

  it('agentbox-sandbox-config-default lists the SandboxConfigs, as the binding takes them all as parameters', () => {
    const binding = bindings.find((b) => b.metadata.name === 'agentbox-sandbox-config-default')!;
    assert.deepEqual(binding.spec.paramRef, { selector: {}, parameterNotFoundAction: 'Allow' });
    const calls = kyverno.find((d) => d.metadata.name === 'agentbox-sandbox-config-default')!.spec.rules!.map((r) => r.context?.find((c) => c.name === 'defaults')?.apiCall?.urlPath);
    assert.deepEqual(calls, [`/apis/${SANDBOX_CONFIGS.group}/${SANDBOX_CONFIGS.version}/${SANDBOX_CONFIGS.plural}`]);
  });
});
