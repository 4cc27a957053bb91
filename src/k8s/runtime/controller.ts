// Runs every gVisor node on the runsc its SandboxConfig names (issue #14 item 7, after
// agent-substrate's design). The default SandboxConfig of class gvisor holds one binary per CPU
// architecture with its sha256; for each node selected (the node agent DaemonSet's selector) the
// operator asks that node's agent to install the asset of the node's architecture
// (src/k8s/node/runtime.ts fetches it, checks the sha256 and that it runs as runsc, and only
// then switches the node to it). What each node runs, or why it refused, goes to the config's
// status and to Events. The node agents hold no Kubernetes credentials: the operator, which
// already calls them, carries the config to them.
//
// A snapshot's manifest pins the binary that took it, so after a switch an older snapshot is
// refused with that reason (src/k8s/node/manifest.ts) until its binary is the default again.
import { isDeepStrictEqual } from 'node:util';
import { KIND } from '../../api/k8s/constants.ts';
import { SandboxConfigSpec } from '../../api/k8s/sandbox-config-schemas.ts';
import type { Condition, KubeObject, SandboxConfig, SandboxConfigNodeStatus, SandboxConfigStatus } from '../../api/k8s/types.ts';
import { AgentboxError } from '../../api/errors.ts';
import { isNotFound, type KubeClient } from '../client.ts';
import type { EventRecorder } from '../events.ts';
import type { Informer } from '../informer.ts';
import type { NodeAgents } from '../node/client.ts';
import { SANDBOX_CONFIGS } from '../resources.ts';

/** The only class with a node agent today; `microvm` configs are accepted and left alone. */
export const RUNTIME_CLASS = 'gvisor';
/** The node agent DaemonSet's nodeSelector (deploy/kustomize/hibernation/node-agent.yaml). */
export const DEFAULT_RUNTIME_NODE_SELECTOR = 'agentbox.dev/gvisor=true';

export type RuntimeNode = KubeObject & { status?: { nodeInfo?: { architecture?: string } } };

export interface RuntimeControllerDeps {
  client: KubeClient;
  configs: Informer<SandboxConfig>;
  /** The gVisor nodes, each with a node agent. */
  nodes: Informer<RuntimeNode>;
  agents: NodeAgents;
  events: EventRecorder;
  now: () => Date;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const condition = (status: 'True' | 'False', reason: string, msg: string, now: Date): Condition =>
  ({ type: 'Ready', status, reason, message: msg, lastTransitionTime: now.toISOString() });

export class RuntimeController {
  constructor(private readonly d: RuntimeControllerDeps) {}

  /** One key for the class: every change of a config or of the set of nodes reconsiders them all. */
  watch(enqueue: (key: string) => void): void {
    this.d.configs.on(() => enqueue(RUNTIME_CLASS));
    // Node status changes all the time; only a node joining or leaving matters here.
    this.d.nodes.on((type) => { if (type !== 'update') enqueue(RUNTIME_CLASS); });
  }

  async reconcile(cls: string): Promise<void> {
    const now = this.d.now();
    const mine = this.d.configs.list().flatMap((c) => {
      const spec = SandboxConfigSpec.safeParse(c.spec);
      return spec.success && spec.data.class === cls ? [{ config: c, spec: spec.data }] : [];
    });
    const defaults = mine.filter((m) => m.spec.default);
    for (const { config } of mine.filter((m) => !m.spec.default)) {
      await this.writeStatus(config, { nodes: [], installedNodes: 0 },
        condition('False', 'NotDefault', `nodes run the default SandboxConfig of class ${cls}; set spec.default on this one to use it`, now));
    }
    if (defaults.length > 1) {
      const names = defaults.map((m) => m.config.metadata.name).sort().join(', ');
      for (const { config } of defaults) {
        await this.writeStatus(config, { nodes: [], installedNodes: 0 },
          condition('False', 'MultipleDefaults', `SandboxConfigs ${names} are all the default of class ${cls}; nodes keep their runsc until exactly one is`, now));
      }
      return;
    }
    if (defaults.length === 1) await this.rollOut(defaults[0]!.config, defaults[0]!.spec, now);
  }

  /** Installs the default config's binary on every node, records what each node said, retries the ones that may succeed later. */
  private async rollOut(config: SandboxConfig, spec: SandboxConfigSpec, now: Date): Promise<void> {
    const name = config.metadata.name!;
    const previous = new Map((config.status?.nodes ?? []).map((n) => [n.name, n]));
    let retry = false;
    const nodes = await Promise.all(this.d.nodes.list().map(async (node): Promise<SandboxConfigNodeStatus> => {
      const nodeName = node.metadata.name!;
      const arch = node.status?.nodeInfo?.architecture ?? 'amd64';
      const asset = spec.runtime.assets[arch as keyof typeof spec.runtime.assets];
      let entry: SandboxConfigNodeStatus;
      if (!asset) {
        entry = { name: nodeName, phase: 'Failed', message: `no asset for the node's architecture ${arch} in spec.runtime.assets` };
      } else {
        try {
          const st = await this.d.agents.installRuntime(nodeName, { config: name, url: asset.url, sha256: asset.sha256 });
          entry = { name: nodeName, phase: 'Installed', sha256: st.sha256, version: st.version };
          if (st.changed) this.event(config, 'Normal', 'RuntimeInstalled', `node ${nodeName} runs ${st.version} (sha256 ${st.sha256.slice(0, 12)}…)`);
        } catch (e) {
          // A refused binary stays refused until the spec changes; anything else may pass later.
          if (!(e instanceof AgentboxError && e.code === 'integrity_error')) retry = true;
          entry = { name: nodeName, phase: 'Failed', message: message(e) };
        }
      }
      const before = previous.get(nodeName);
      const same = before?.phase === entry.phase && before.sha256 === entry.sha256 && before.message === entry.message;
      if (!same && entry.phase === 'Failed') this.event(config, 'Warning', 'RuntimeRefused', `node ${nodeName}: ${entry.message}`);
      return { ...entry, lastTransitionTime: same && before?.lastTransitionTime ? before.lastTransitionTime : now.toISOString() };
    }));
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    const failed = nodes.filter((n) => n.phase === 'Failed');
    const ready = failed.length === 0
      ? condition('True', 'Installed', `${nodes.length} of ${nodes.length} nodes run this binary`, now)
      : condition('False', 'NodesFailed', `${failed.length} of ${nodes.length} nodes do not run this binary: ${failed.map((n) => `${n.name}: ${n.message}`).join('; ')}`, now);
    await this.writeStatus(config, { nodes, installedNodes: nodes.length - failed.length }, ready);
    if (retry) throw new AgentboxError('unavailable', `SandboxConfig ${name}: ${failed.map((n) => `${n.name}: ${n.message}`).join('; ')}`);
  }

  /** Writes the status when it says something new; the Ready condition keeps its time while its status holds. */
  private async writeStatus(config: SandboxConfig, fields: Pick<SandboxConfigStatus, 'nodes' | 'installedNodes'>, ready: Condition): Promise<void> {
    const old = config.status ?? {};
    const oldReady = old.conditions?.find((c) => c.type === 'Ready');
    const status: SandboxConfigStatus = {
      observedGeneration: config.metadata.generation,
      ...fields,
      conditions: [oldReady?.status === ready.status && oldReady.reason === ready.reason ? { ...ready, lastTransitionTime: oldReady.lastTransitionTime } : ready],
    };
    // The API server writes keys sorted, so compare values, not spellings; undefined is no key.
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    if (isDeepStrictEqual(plain(status), plain({ observedGeneration: old.observedGeneration, nodes: old.nodes, installedNodes: old.installedNodes, conditions: old.conditions }))) return;
    try {
      const written = await this.d.client.patch<SandboxConfig>(SANDBOX_CONFIGS, undefined, config.metadata.name!, { status }, 'merge', 'status');
      this.d.configs.observe(written);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private event(config: SandboxConfig, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.d.events.record({ ...config, ...KIND.SandboxConfig }, type, reason, 'InstallRuntime', note);
  }
}
