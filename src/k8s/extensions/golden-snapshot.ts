// Warm pools that fill from one golden snapshot (issue 14 §4, docs/kubernetes-hibernation.md).
// A SandboxWarmPool annotated `agentbox.dev/golden-snapshot: "true"` keeps a golden Sandbox of
// its template, `<pool>-golden`, controlled by the pool but not one of its members (no warm-pool
// label, so no claim takes it). It starts as a member would; once Ready (its start command done,
// as the template's readiness probe says) the pool suspends it with memory hibernation, so its
// memory is checkpointed once into a stored SandboxSnapshot. Only then are members created, each
// forking the suspended golden: every member restores that one snapshot (sandbox/hibernation.ts)
// with its own pod, hostname, IP and Service. A template change replaces the golden, as does the
// loss of the node holding its snapshot (members restore it there only), and deleting the pool
// deletes the golden and with it the snapshot (owner references).
import { ANNOTATION, CONDITION, HIBERNATION_MEMORY, LABEL, OPERATING_MODE, REASON } from '../../api/k8s/constants.ts';
import type { Sandbox, SandboxTemplate, SandboxWarmPool } from '../../api/k8s/types.ts';
import type { KubeClient } from '../client.ts';
import { findCondition, isTrue } from '../conditions.ts';
import { nameHash } from '../hash.ts';
import type { Informer } from '../informer.ts';
import type { RestoreNodes } from '../node/placement.ts';
import { isControlledBy } from '../ownership.ts';
import { SANDBOXES } from '../resources.ts';
import { snapshotOf } from '../sandbox/hibernation.ts';
import { isStale } from './blueprint.ts';

export const wantsGoldenSnapshot = (pool: SandboxWarmPool) => pool.metadata.annotations?.[ANNOTATION.goldenSnapshot] === 'true';
export const goldenNameOf = (pool: SandboxWarmPool) => `${pool.metadata.name}-golden`;

/** Whether members may be created (forking `name`), or why not yet: the pool's GoldenSnapshotReady condition. */
export type GoldenState =
  | { stored: true; name: string; message: string }
  | { stored: false; reason: string; message: string };

export interface GoldenSnapshotsDeps {
  client: KubeClient;
  sandboxes: Informer<Sandbox>;
  /** Whether the node holding the golden's snapshot is Ready; absent: assumed so. */
  restoreNodes?: RestoreNodes;
  /** A Sandbox of the pool's template, as a member is made (labels, defaults, owner). */
  sandboxOf(pool: SandboxWarmPool, t: SandboxTemplate, meta: { name: string; labels: Record<string, string>; annotations: Record<string, string> }): Sandbox;
}

const pending = (message: string): GoldenState => ({ stored: false, reason: REASON.goldenSnapshotPending, message });

export class GoldenSnapshots {
  constructor(private readonly d: GoldenSnapshotsDeps) {}

  /** Deletes the golden (its snapshot goes with it), unless a Sandbox of its name replaced it meanwhile. */
  private async remove(golden: Sandbox): Promise<void> {
    await this.d.client.delete(SANDBOXES, golden.metadata.namespace, golden.metadata.name!, { preconditions: { uid: golden.metadata.uid } });
  }

  /** A pool that no longer asks for a golden snapshot: its golden Sandbox (and so its snapshot) goes. */
  async retire(pool: SandboxWarmPool): Promise<void> {
    const golden = this.d.sandboxes.get(pool.metadata.namespace!, goldenNameOf(pool));
    if (!golden || golden.metadata.deletionTimestamp || !isControlledBy(golden, pool)) return;
    await this.remove(golden);
  }

  /** Moves the pool's golden Sandbox one step towards a stored snapshot of the current template. */
  async ensure(pool: SandboxWarmPool, t: SandboxTemplate): Promise<GoldenState> {
    const ns = pool.metadata.namespace!;
    const name = goldenNameOf(pool);
    const golden = this.d.sandboxes.get(ns, name);
    if (!golden) {
      this.d.sandboxes.observe(await this.d.client.create(SANDBOXES, ns, this.d.sandboxOf(pool, t, {
        name,
        labels: { [LABEL.goldenOf]: nameHash(pool.metadata.name!) },
        // Its own memory is the snapshot, and it forks nothing even if its template says so.
        annotations: { [ANNOTATION.hibernation]: HIBERNATION_MEMORY, [ANNOTATION.forkFrom]: '' },
      })));
      return pending(`starting golden Sandbox ${name}`);
    }
    if (!isControlledBy(golden, pool)) {
      return { stored: false, reason: REASON.goldenSnapshotFailed, message: `Sandbox ${name} exists and is not this pool's; delete or rename it` };
    }
    if (golden.metadata.deletionTimestamp) return pending(`golden Sandbox ${name} is being deleted`);
    if (isStale(golden, t)) {
      // Members made from it are stale too, and replaced by the pool's update strategy.
      await this.remove(golden);
      return pending(`replacing golden Sandbox ${name}, built from an older template`);
    }
    const snap = snapshotOf(golden);
    if (golden.spec.operatingMode === OPERATING_MODE.suspended) {
      if (snap && this.d.restoreNodes && !(await this.d.restoreNodes.isReady(snap.node))) {
        await this.remove(golden);
        return pending(`node ${snap.node}, which holds golden Sandbox ${name}'s memory snapshot ${snap.id}, is gone or not Ready: taking a new one`);
      }
      if (snap) return { stored: true, name, message: `members restore memory snapshot ${snap.id} of golden Sandbox ${name} on node ${snap.node}` };
      const hibernated = findCondition(golden.status?.conditions, CONDITION.hibernated);
      if (hibernated?.status === 'False') return { stored: false, reason: REASON.goldenSnapshotFailed, message: `golden Sandbox ${name}: ${hibernated.message}` };
      return pending(`checkpointing golden Sandbox ${name}`);
    }
    if (!isTrue(golden.status?.conditions, CONDITION.ready)) return pending(`waiting for golden Sandbox ${name} to become Ready (its start command)`);
    await this.d.client.patch(SANDBOXES, ns, name, { spec: { operatingMode: OPERATING_MODE.suspended } });
    return pending(`checkpointing golden Sandbox ${name}`);
  }
}
