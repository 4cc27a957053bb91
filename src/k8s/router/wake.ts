// Wake on traffic (src/k8s/sandbox/idle.ts): a request for a Sandbox that suspends when idle and
// is suspended, or is still starting, resumes it (spec.operatingMode Running) and is held until
// a pod of it is live, then served. Requests for one Sandbox share one wake.
import { ANNOTATION, OPERATING_MODE } from '../../api/k8s/constants.ts';
import type { Sandbox } from '../../api/k8s/types.ts';
import { RouterError } from './errors.ts';
import type { Upstream } from './resolve.ts';

export interface WakeDeps {
  /** Merge-patches the Sandbox (its operating mode and annotations). */
  patch(namespace: string, name: string, patch: unknown): Promise<void>;
  /** The upstream of a live pod of the Sandbox, or throws while there is none. */
  livePod(): Upstream;
  timeoutMs: number;
  pollMs?: number;
}

export class Waker {
  private readonly waking = new Map<string, Promise<void>>();

  /** Resumes `sb` when it is suspended and waits for a live pod; `d.livePod` names the request's target. */
  async wake(sb: Sandbox, d: WakeDeps): Promise<Upstream> {
    const key = `${sb.metadata.namespace}/${sb.metadata.name}`;
    let shared = this.waking.get(key);
    if (!shared) {
      shared = this.resume(sb, d).finally(() => this.waking.delete(key));
      this.waking.set(key, shared);
    }
    await shared;
    return waitForPod(d);
  }

  private async resume(sb: Sandbox, d: WakeDeps): Promise<void> {
    if (sb.spec.operatingMode !== OPERATING_MODE.suspended) return;
    await d.patch(sb.metadata.namespace!, sb.metadata.name!, {
      metadata: { annotations: { [ANNOTATION.suspendedBy]: null } },
      spec: { operatingMode: OPERATING_MODE.running },
    });
  }
}

async function waitForPod(d: WakeDeps): Promise<Upstream> {
  const deadline = Date.now() + d.timeoutMs;
  for (;;) {
    try {
      const up = d.livePod();
      // A Service name is not a live pod: its DNS answers before any endpoint is ready.
      if (up.via !== 'dns') return up;
    } catch (e) {
      if (!(e instanceof RouterError) || e.status !== 502) throw e;
    }
    if (Date.now() >= deadline) {
      throw new RouterError(504, `the sandbox was resuming and had no running pod after ${Math.round(d.timeoutMs / 1000)} s; retry, or see its status conditions`);
    }
    await new Promise((r) => setTimeout(r, d.pollMs ?? 100));
  }
}
