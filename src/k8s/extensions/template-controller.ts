// SandboxTemplate reconciler: labels the template with its ref hash and keeps its managed
// NetworkPolicy (or removes ours when the template switches to Unmanaged).
import { AgentboxError } from '../../api/errors.ts';
import { LABEL } from '../../api/k8s/constants.ts';
import type { SandboxTemplate } from '../../api/k8s/types.ts';
import { isAlreadyExists, NETWORK_POLICIES, type KubeClient } from '../client.ts';
import { nameHash } from '../hash.ts';
import { objectKey, type Informer } from '../informer.ts';
import { controllerOf, isControlledBy } from '../ownership.ts';
import { TEMPLATES } from '../resources.ts';
import { buildNetworkPolicy, policyNameOf, samePolicy, type NetworkPolicy } from './network-policy.ts';

export interface TemplateControllerDeps {
  client: KubeClient;
  templates: Informer<SandboxTemplate>;
  /** NetworkPolicies carrying the template-ref-hash label. */
  policies: Informer<NetworkPolicy>;
}

export class TemplateController {
  constructor(private readonly d: TemplateControllerDeps) {}

  /** Maps the changes this reconciler cares about to its queue keys: a template, and the template of a managed policy. */
  watch(enqueue: (key: string) => void): void {
    this.d.templates.on((_t, t) => enqueue(objectKey(t)));
    this.d.policies.on((_t, p) => { const ow = controllerOf(p); if (ow?.kind === 'SandboxTemplate') enqueue(`${p.metadata.namespace}/${ow.name}`); });
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const t = this.d.templates.get(namespace, name);
    if (!t || t.metadata.deletionTimestamp) return;
    const hash = nameHash(name);
    if (t.metadata.labels?.[LABEL.templateRefHash] !== hash) {
      this.d.templates.observe(await this.d.client.patch<SandboxTemplate>(TEMPLATES, namespace, name,
        { metadata: { labels: { [LABEL.templateRefHash]: hash } } }));
    }
    const policyName = policyNameOf(name);
    const have = this.d.policies.get(namespace, policyName)
      ?? await this.d.client.getOrNull<NetworkPolicy>(NETWORK_POLICIES, namespace, policyName);
    if (t.spec.networkPolicyManagement === 'Unmanaged') {
      if (have && isControlledBy(have, t)) await this.d.client.delete(NETWORK_POLICIES, namespace, policyName);
      return;
    }
    const want = buildNetworkPolicy(t);
    if (!have) {
      try { this.d.policies.observe(await this.d.client.create(NETWORK_POLICIES, namespace, want)); } catch (e) { if (!isAlreadyExists(e)) throw e; }
      return;
    }
    if (!isControlledBy(have, t)) {
      const owner = controllerOf(have);
      throw new AgentboxError('conflict', `NetworkPolicy ${policyName} exists and is not controlled by template ${name}${owner ? ` (controller: ${owner.kind} ${owner.name})` : ''}`);
    }
    if (!samePolicy(have, want)) {
      this.d.policies.observe(await this.d.client.update<NetworkPolicy>(NETWORK_POLICIES, { ...have, spec: want.spec }));
    }
  }
}
