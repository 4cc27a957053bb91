// What the router knows of the cluster: Sandboxes and their pods in the sandbox namespaces only
// (one pair of informers per namespace, so RBAC can be a Role per namespace), plus on-demand reads
// of the per-sandbox guest Secrets. Every upstream the router dials comes from here, never from a
// client header alone.
import type { Sandbox } from '../../api/k8s/types.ts';
import { LABEL } from '../../api/k8s/constants.ts';
import { isNotFound, PODS, SECRETS, type KubeClient } from '../client.ts';
import { guestSecretNameOf, readGuestSecret, type GuestSecret } from '../extensions/guest-secret.ts';
import { Informer } from '../informer.ts';
import { controllerOf } from '../ownership.ts';
import { SANDBOXES } from '../resources.ts';
import type { Pod } from '../sandbox/pod.ts';

export class ClusterView {
  private readonly pods: Informer<Pod>[];
  private readonly sandboxes: Informer<Sandbox>[];
  private readonly tokens = new Map<string, { sandboxUid: string; token: string }>();

  /** `namespaces` empty: every namespace (needs cluster-wide read access). */
  constructor(private readonly client: KubeClient, readonly namespaces: readonly string[]) {
    const scopes = namespaces.length ? namespaces : [undefined];
    this.pods = scopes.map((namespace) => new Informer<Pod>(client, PODS, { namespace, labelSelector: LABEL.sandboxNameHash }));
    this.sandboxes = scopes.map((namespace) => new Informer<Sandbox>(client, SANDBOXES, { namespace }));
  }

  async start(): Promise<void> {
    await Promise.all([...this.pods, ...this.sandboxes].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.pods, ...this.sandboxes].map((i) => i.stop()));
  }

  watches(namespace: string): boolean {
    return this.namespaces.length === 0 || this.namespaces.includes(namespace);
  }

  sandbox(namespace: string, name: string): Sandbox | undefined {
    for (const i of this.sandboxes) { const sb = i.get(namespace, name); if (sb) return sb; }
    return undefined;
  }

  /** Live pods in `namespace` controlled by a Sandbox the router knows (a pod's labels alone prove nothing). */
  sandboxPods(namespace: string, filter: (p: Pod, owner: Sandbox) => boolean): Pod[] {
    const out: Pod[] = [];
    for (const i of this.pods) {
      for (const p of i.list(undefined, namespace)) {
        const ref = controllerOf(p);
        if (ref?.kind !== 'Sandbox') continue;
        const owner = this.sandbox(namespace, ref.name);
        if (owner && owner.metadata.uid === ref.uid && filter(p, owner)) out.push(p);
      }
    }
    return out;
  }

  /**
   * The envd access token of a Sandbox's injected guest, read from the Secret the operator made for
   * it; only a Secret controlled by that very Sandbox (UID) counts. Cached per Sandbox UID.
   */
  async guestToken(sb: Sandbox): Promise<string | undefined> {
    const key = `${sb.metadata.namespace}/${sb.metadata.name}`;
    const hit = this.tokens.get(key);
    if (hit && hit.sandboxUid === sb.metadata.uid) return hit.token;
    let secret: GuestSecret | undefined;
    try {
      secret = readGuestSecret(await this.client.get(SECRETS, sb.metadata.namespace, guestSecretNameOf(sb.metadata.name!)), sb);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!secret) return undefined;
    this.tokens.set(key, { sandboxUid: sb.metadata.uid!, token: secret.accessToken });
    return secret.accessToken;
  }
}
