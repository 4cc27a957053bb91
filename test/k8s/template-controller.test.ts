// SandboxTemplate reconciler against a real kube-apiserver: template labels and the managed
// default NetworkPolicy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NETWORK_POLICIES } from '../../src/k8s/client.ts';
import { TEMPLATES } from '../../src/k8s/resources.ts';
import { FLOOR_V4 } from '../../src/api/egress-floor.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import type { SandboxTemplate } from '../../src/api/k8s/types.ts';
import type { NetworkPolicy } from '../../src/k8s/extensions/network-policy.ts';
import { ensureEnv, waitFor } from './harness.ts';
import { extensionsFixture } from './extensions-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s template tests: ${skip}`);

describe('template controller', { skip: skip ?? false }, () => {
  const f = extensionsFixture('tpl');

  it('labels a template and manages its secure default NetworkPolicy', async () => {
    const { client, ns } = f;
    await f.template('tpl-net');
    const np = await waitFor('policy', () => client.getOrNull<NetworkPolicy>(NETWORK_POLICIES, ns, 'tpl-net-network-policy'));
    const hash = nameHash('tpl-net');
    assert.deepEqual(np.spec.podSelector, { matchLabels: { 'agents.x-k8s.io/sandbox-template-ref-hash': hash } });
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.spec.ingress, [{ from: [{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agent-sandbox-system' } },
      podSelector: { matchLabels: { app: 'sandbox-router' } },
    }] }]);
    assert.deepEqual(np.spec.egress, [{ to: [
      { ipBlock: { cidr: '0.0.0.0/0', except: FLOOR_V4 } },
      { ipBlock: { cidr: '2000::/3', except: ['2001::/32', '2001:db8::/32', '2002::/16'] } },
    ] }]);
    const t = await client.get<SandboxTemplate>(TEMPLATES, ns, 'tpl-net');
    assert.equal(t.metadata.labels?.['agents.x-k8s.io/sandbox-template-ref-hash'], hash);

    await client.patch(TEMPLATES, ns, 'tpl-net', { spec: { networkPolicy: { ingress: [], egress: [] } } });
    await waitFor('custom rules (default deny)', async () => {
      const p = await client.get<NetworkPolicy>(NETWORK_POLICIES, ns, 'tpl-net-network-policy');
      return (p.spec.ingress ?? []).length === 0 && (p.spec.egress ?? []).length === 0 ? p : null;
    });
    await client.patch(TEMPLATES, ns, 'tpl-net', { spec: { networkPolicyManagement: 'Unmanaged' } });
    await waitFor('policy removed', async () => (await client.getOrNull(NETWORK_POLICIES, ns, 'tpl-net-network-policy')) === null);
  });
});
