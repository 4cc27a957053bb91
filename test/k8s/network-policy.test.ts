// The default-deny NetworkPolicy the operator keeps per SandboxTemplate, on the real kube-apiserver
// (and its garbage collector): a template's egress allow-list becomes the policy's egress with DNS
// added and the egress floor cut out (src/k8s/extensions/egress-floor.ts), deny-all stays deny-all, the policy follows template edits and undoes hand edits, is
// owned by the template and goes with it. Whether packets are dropped is the network plugin's
// business (docs/kubernetes-guardrails.md); this checks the object the plugin enforces.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { NETWORK_POLICIES } from '../../src/k8s/client.ts';
import { TEMPLATES } from '../../src/k8s/resources.ts';
import { FLOOR_V4 } from '../../src/api/egress-floor.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import type { SandboxTemplate } from '../../src/api/k8s/types.ts';
import type { NetworkPolicy } from '../../src/k8s/extensions/network-policy.ts';
import { ensureEnv, waitFor } from './harness.ts';
import { extensionsFixture } from './extensions-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s NetworkPolicy tests: ${skip}`);

const DNS = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
};
const ROUTER_ONLY = [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agent-sandbox-system' } }, podSelector: { matchLabels: { app: 'sandbox-router' } } }] }];
const HTTPS_TO = (cidr: string) => ({ to: [{ ipBlock: { cidr } }], ports: [{ protocol: 'TCP', port: 443 }] });

describe('NetworkPolicy per SandboxTemplate', { skip: skip ?? false }, () => {
  const f = extensionsFixture('netpol');
  const policy = (template: string) => f.client.getOrNull<NetworkPolicy>(NETWORK_POLICIES, f.ns, `${template}-network-policy`);
  /** Waits until the template's policy has these rules. */
  const rulesBecome = (template: string, what: string, ingress: unknown[], egress: unknown[]) => waitFor(what, async () => {
    const p = await policy(template);
    return p && isDeepStrictEqual([p.spec.ingress ?? [], p.spec.egress ?? []], [ingress, egress]) ? p : null;
  });

  it("turns the template's egress allow-list into the policy's egress, DNS added, owned by the template", async () => {
    const t = await f.template('allow', { networkPolicy: { ingress: ROUTER_ONLY, egress: [HTTPS_TO('203.0.113.0/24')] } });
    const p = await rulesBecome('allow', 'allow-list policy', ROUTER_ONLY, [HTTPS_TO('203.0.113.0/24'), DNS]);
    assert.deepEqual(p.spec.podSelector, { matchLabels: { 'agents.x-k8s.io/sandbox-template-ref-hash': nameHash('allow') } });
    assert.deepEqual(p.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'extensions.agents.x-k8s.io/v1beta1', kind: 'SandboxTemplate', name: 'allow', uid: t.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  });

  it("cuts the egress floor out of the template's allow-list, as on one machine (metadata, private and cluster ranges stay closed)", async () => {
    await f.template('floored', { networkPolicy: { ingress: ROUTER_ONLY, egress: [
      HTTPS_TO('0.0.0.0/0'),
      { to: [{ ipBlock: { cidr: '169.254.169.254/32' } }, { ipBlock: { cidr: '10.0.0.0/8' } }] },
      HTTPS_TO('fd00::/8'),
    ] } });
    const p = await rulesBecome('floored', 'floored allow-list', ROUTER_ONLY, [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: FLOOR_V4 } }], ports: [{ protocol: 'TCP', port: 443 }] }, DNS]);
    // The API server stored the excepts as written: every one a strict subset of its CIDR.
    assert.deepEqual((p.spec.egress as { to: { ipBlock: { except: string[] } }[] }[])[0]!.to[0]!.ipBlock.except, FLOOR_V4);
    await f.template('private-only', { networkPolicy: { ingress: ROUTER_ONLY, egress: [HTTPS_TO('192.168.0.0/16')] } });
    await rulesBecome('private-only', 'nothing left to allow: deny-all, no DNS', ROUTER_ONLY, []);
  });

  it('keeps an empty egress list deny-all: no DNS either', async () => {
    await f.template('sealed', { networkPolicy: { ingress: ROUTER_ONLY, egress: [] } });
    await rulesBecome('sealed', 'deny-all egress', ROUTER_ONLY, []);
  });

  it('follows the template: a changed allow-list, deny-all, back to the secure default', async () => {
    await f.template('edited', { networkPolicy: { ingress: ROUTER_ONLY, egress: [HTTPS_TO('203.0.113.0/24')] } });
    await rulesBecome('edited', 'first allow-list', ROUTER_ONLY, [HTTPS_TO('203.0.113.0/24'), DNS]);
    await f.client.patch(TEMPLATES, f.ns, 'edited', { spec: { networkPolicy: { ingress: ROUTER_ONLY, egress: [HTTPS_TO('198.51.100.7/32')] } } });
    await rulesBecome('edited', 'second allow-list', ROUTER_ONLY, [HTTPS_TO('198.51.100.7/32'), DNS]);
    await f.client.patch(TEMPLATES, f.ns, 'edited', { spec: { networkPolicy: { ingress: ROUTER_ONLY, egress: [] } } });
    await rulesBecome('edited', 'deny-all', ROUTER_ONLY, []);
    await f.client.patch(TEMPLATES, f.ns, 'edited', { spec: { networkPolicy: null } });
    const p = await waitFor('secure default', async () => { const x = await policy('edited'); return x && (x.spec.egress as { to: { ipBlock?: { cidr: string } }[] }[])[0]?.to[0]?.ipBlock?.cidr === '0.0.0.0/0' ? x : null; });
    assert.deepEqual(p.spec.ingress, ROUTER_ONLY);
  });

  it('undoes a hand edit of the policy', async () => {
    await f.template('guarded', { networkPolicy: { ingress: ROUTER_ONLY, egress: [] } });
    const p = await rulesBecome('guarded', 'deny-all', ROUTER_ONLY, []);
    await f.client.update<NetworkPolicy>(NETWORK_POLICIES, { ...p, spec: { ...p.spec, ingress: [{}], egress: [{}] } });
    await rulesBecome('guarded', 'rules restored', ROUTER_ONLY, []);
  });

  it('goes with its template (garbage collection through the owner reference)', async () => {
    await f.template('gone', { networkPolicy: { ingress: ROUTER_ONLY, egress: [HTTPS_TO('203.0.113.0/24')] } });
    await rulesBecome('gone', 'policy', ROUTER_ONLY, [HTTPS_TO('203.0.113.0/24'), DNS]);
    await f.client.delete(TEMPLATES, f.ns, 'gone');
    await waitFor('policy collected', async () => (await policy('gone')) === null, 30_000);
    assert.equal(await f.client.getOrNull<SandboxTemplate>(TEMPLATES, f.ns, 'gone'), null);
  });
});
