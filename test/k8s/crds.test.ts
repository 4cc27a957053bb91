// The CRDs in deploy/ are generated from src/api/k8s/schemas.ts and must be up to date; the
// schemas carry the reference's names, enums, defaults and subresources.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildCrd } from '../../src/api/k8s/crds.ts';
import { SANDBOX, SANDBOX_CLAIM, SANDBOX_TEMPLATE, SANDBOX_WARM_POOL } from '../../src/api/k8s/schemas.ts';

const root = new URL('../..', import.meta.url).pathname;
type S = { properties: Record<string, S>; default?: unknown; enum?: string[]; required?: string[] };
const spec = (k: typeof SANDBOX, v: 'v1beta1' | 'v1alpha1') => (k[v].schema as unknown as S).properties.spec!;

describe('CRDs', () => {
  it('deploy/crds is generated from the schemas (npm run k8s:crds)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/k8s-crds.ts', '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('carries the reference enums, defaults and subresources', () => {
    const sb = spec(SANDBOX, 'v1beta1').properties;
    assert.deepEqual([sb.operatingMode!.enum, sb.operatingMode!.default], [['Running', 'Suspended'], 'Running']);
    assert.deepEqual([sb.shutdownPolicy!.enum, sb.shutdownPolicy!.default], [['Delete', 'Retain'], 'Retain']);
    assert.equal(spec(SANDBOX, 'v1alpha1').properties.replicas!.default, 1);
    const tpl = spec(SANDBOX_TEMPLATE, 'v1beta1').properties;
    assert.equal(tpl.networkPolicyManagement!.default, 'Managed');
    assert.equal(tpl.envVarsInjectionPolicy!.default, 'Disallowed');
    assert.equal(tpl.volumeClaimTemplatesPolicy!.default, 'Disallowed');
    assert.equal(spec(SANDBOX_TEMPLATE, 'v1alpha1').properties.volumeClaimTemplatesPolicy, undefined);
    assert.deepEqual(spec(SANDBOX_CLAIM, 'v1beta1').required, ['warmPoolRef']);
    assert.equal(spec(SANDBOX_CLAIM, 'v1alpha1').properties.warmpool!.default, 'default');
    assert.equal(spec(SANDBOX_CLAIM, 'v1beta1').properties.lifecycle!.properties.shutdownPolicy!.default, 'Retain');
    assert.equal(spec(SANDBOX_WARM_POOL, 'v1beta1').properties.replicas!.default, 1);
    assert.deepEqual(spec(SANDBOX_WARM_POOL, 'v1alpha1').required, ['replicas', 'sandboxTemplateRef']);
    const crd = buildCrd(SANDBOX);
    assert.deepEqual(crd.spec.versions.map((v) => [v.name, v.storage, v.served]), [['v1beta1', true, true], ['v1alpha1', false, true]]);
    assert.equal(crd.spec.versions[0]!.subresources.scale, undefined, 'no scale subresource on v1beta1 Sandbox');
    assert.ok(crd.spec.versions[1]!.subresources.scale);
    assert.deepEqual(buildCrd(SANDBOX_WARM_POOL).spec.versions.map((v) => !!v.subresources.scale), [true, true]);
    assert.deepEqual(buildCrd(SANDBOX_CLAIM).spec.versions[0]!.additionalPrinterColumns?.map((c) => c.name), ['Ready', 'Sandbox', 'Reason', 'Age']);
    // The operator owns spec.conversion (src/api/k8s/crds.ts buildCrd); the manifests leave it out.
    assert.equal('conversion' in crd.spec, false);
    const withWebhook = buildCrd(SANDBOX, { webhook: { url: 'https://127.0.0.1:9443/convert' } });
    assert.equal(withWebhook.spec.conversion?.strategy, 'Webhook');
    assert.deepEqual(crd.spec.names.shortNames, ['sandbox']);
    assert.deepEqual(buildCrd(SANDBOX_WARM_POOL).spec.names.shortNames, ['swp']);
  });
});
