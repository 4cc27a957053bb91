// v1alpha1 ⇄ v1beta1 conversion, pure: the round trips and the claim's warm-pool mapping. The
// same conversion through a real API server and the webhook: test/k8s/conversion.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/k8s/types.ts';
import { convertObject } from './convert.ts';

type Any = KubeObject & { apiVersion: string; kind: string; spec: Record<string, unknown>; status?: Record<string, unknown> };
const podSpec = { containers: [{ name: 'main', image: 'agentbox/test:1' }] };

describe('conversion (pure)', () => {
  it('maps Sandbox replicas to operatingMode and back, stashing the v1alpha1 state', () => {
    const alpha: Any = { apiVersion: 'agents.x-k8s.io/v1alpha1', kind: 'Sandbox', metadata: { name: 's' }, spec: { replicas: 0, podTemplate: { spec: podSpec } } };
    const hub = convertObject(alpha, 'agents.x-k8s.io/v1beta1');
    assert.equal(hub.spec!.operatingMode, 'Suspended');
    assert.equal(hub.spec!.replicas, undefined);
    assert.ok(hub.metadata.annotations?.['api.agents.x-k8s.io/v1alpha1-sandbox-state']);
    assert.deepEqual(convertObject(hub, 'agents.x-k8s.io/v1alpha1'), alpha);
  });

  it('maps claim template/warmpool policies to warmPoolRef', () => {
    const mk = (warmpool: string | undefined, extra: Partial<Any> = {}): Any => ({
      apiVersion: 'extensions.agents.x-k8s.io/v1alpha1', kind: 'SandboxClaim', metadata: { name: 'c', ...(extra.metadata ?? {}) },
      spec: { sandboxTemplateRef: { name: 'tpl-x' }, ...(warmpool ? { warmpool } : {}) },
    });
    const ref = (o: Any) => (convertObject(o, 'extensions.agents.x-k8s.io/v1beta1').spec as { warmPoolRef: { name: string } }).warmPoolRef.name;
    assert.equal(ref(mk('pool-x')), 'pool-x');
    assert.equal(ref(mk('none')), 'shadow-pool-tpl-x');
    assert.equal(ref(mk('default')), 'shadow-pool-tpl-x');
    assert.equal(ref(mk('default', { metadata: { name: 'c', annotations: { 'agents.x-k8s.io/sandbox-name': 'pool-y-ab12c' } } })), 'pool-y');
  });

  it('takes a claim\'s v1alpha1 template from the object alone (the recorded annotation, else the pool)', () => {
    const hub = (annotations?: Record<string, string>): Any => ({
      apiVersion: 'extensions.agents.x-k8s.io/v1beta1', kind: 'SandboxClaim',
      metadata: { name: 'c', namespace: 'n', ...(annotations ? { annotations } : {}) }, spec: { warmPoolRef: { name: 'pool-x' } },
    });
    const down = (o: Any) => convertObject(o, 'extensions.agents.x-k8s.io/v1alpha1').spec;
    assert.deepEqual(down(hub({ 'agentbox.dev/sandbox-template': 'tpl-x' })), { sandboxTemplateRef: { name: 'tpl-x' }, warmpool: 'pool-x' });
    // Not reconciled yet: the pool's name, which `warmpool: pool-x` converts back to the same pool.
    const unreconciled = convertObject(hub(), 'extensions.agents.x-k8s.io/v1alpha1') as Any;
    assert.deepEqual(unreconciled.spec, { sandboxTemplateRef: { name: 'pool-x' }, warmpool: 'pool-x' });
    assert.deepEqual(convertObject(unreconciled, 'extensions.agents.x-k8s.io/v1beta1').spec, { warmPoolRef: { name: 'pool-x' } });
  });
});
