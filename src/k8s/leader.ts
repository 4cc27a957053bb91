// Leader election on a coordination.k8s.io Lease: acquire when free or expired, renew while
// leading, report loss (the caller stops reconciling; the process exits, as controller-runtime
// does). Every write carries the Lease's resourceVersion, so two candidates cannot both win.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { AgentboxError } from '../api/errors.ts';
import { isAlreadyExists, isConflict, isNotFound, LEASES, type KubeClient } from './client.ts';
import type { KubeObject } from '../api/k8s/types.ts';

interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaderOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationSeconds?: number;
  renewEveryMs?: number;
  now?: () => Date;
}

const micro = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly identity: string;
  private timer?: NodeJS.Timeout;
  private leading = false;

  constructor(private readonly o: LeaderOptions) {
    this.identity = o.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  }

  get isLeader(): boolean { return this.leading; }

  /** One attempt to acquire or renew; true when we hold the lease afterwards. */
  async tryAcquire(): Promise<boolean> {
    const now = (this.o.now ?? (() => new Date()))();
    const duration = this.o.leaseDurationSeconds ?? 15;
    const lease = await this.o.client.getOrNull<Lease>(LEASES, this.o.namespace, this.o.name);
    if (!lease) {
      try {
        await this.o.client.create<Lease>(LEASES, this.o.namespace, {
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: duration, acquireTime: micro(now), renewTime: micro(now), leaseTransitions: 0 },
        });
        return (this.leading = true);
      } catch (e) { if (isAlreadyExists(e)) return (this.leading = false); throw e; }
    }
    const held = lease.spec.holderIdentity;
    const renewed = Date.parse(lease.spec.renewTime ?? '') || 0;
    const expired = renewed + (lease.spec.leaseDurationSeconds ?? duration) * 1000 < now.getTime();
    if (held && held !== this.identity && !expired) return (this.leading = false);
    const spec = {
      ...lease.spec, holderIdentity: this.identity, leaseDurationSeconds: duration, renewTime: micro(now),
      ...(held !== this.identity ? { acquireTime: micro(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.o.client.update<Lease>(LEASES, { ...lease, spec });
      return (this.leading = true);
    } catch (e) { if (isConflict(e)) return (this.leading = false); throw e; }
  }

  /**
   * Waits until leading (polling), then renews in the background; `onLost` fires once. A Lease
   * cannot be created in a namespace that does not exist, and no retry will change that, so a
   * missing namespace ends the wait with an error that says what to do.
   */
  async run(onLost: () => void, signal: AbortSignal): Promise<boolean> {
    const every = this.o.renewEveryMs ?? 2000;
    while (!signal.aborted) {
      const acquired = await this.tryAcquire().catch((e: unknown) => {
        if (isNotFound(e)) throw this.missingNamespace(e);
        return false;
      });
      if (acquired) break;
      await new Promise((r) => setTimeout(r, every));
    }
    if (signal.aborted) return false;
    this.timer = setInterval(() => {
      void this.tryAcquire().catch(() => false).then((ok) => {
        if (!ok) { clearInterval(this.timer); onLost(); }
      });
    }, every);
    return true;
  }

  private missingNamespace(cause: unknown): AgentboxError {
    return new AgentboxError('not_found',
      `leader election needs the namespace "${this.o.namespace}" for its Lease, and it does not exist: create it, ` +
      'pass --leader-election-namespace=<an existing namespace>, or run one replica with --leader-elect=false',
      { cause, details: { namespace: this.o.namespace } });
  }

  /** Stops renewing and hands the lease back, so a standby takes over without waiting. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.o.client.getOrNull<Lease>(LEASES, this.o.namespace, this.o.name).catch(() => null);
    if (!lease || lease.spec.holderIdentity !== this.identity) return;
    await this.o.client.update<Lease>(LEASES, { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: micro(new Date(0)) } }).catch(() => undefined);
  }
}
