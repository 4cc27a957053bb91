/**
 * The lifecycle loop: sleeps until the next expiry recorded in SQLite, then applies each expired
 * sandbox's onTimeout. Timers live in the database, not in memory, so a restarted server
 * resumes them simply by starting this loop.
 */
import { asAgentboxError } from '../api/errors.ts';
import { expiryAction, sleepUntil } from './expiry.ts';
import type { SandboxStore } from './sandbox-store.ts';
import type { SandboxService } from './service.ts';

export interface LifecycleDeps {
  store: SandboxStore;
  service: SandboxService;
  now: () => number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Longest sleep; a create with a short timeout wakes the loop via `poke` anyway. */
  maxSleepMs?: number;
  /** After a failed action, when to try that sandbox again. */
  retryMs?: number;
}

export class LifecycleLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly d: LifecycleDeps) {}

  start(): void {
    this.schedule(0);
  }

  /** Re-plans the sleep, e.g. after a timeout changed. */
  poke(): void {
    if (!this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.running = this.tick().finally(() => { this.running = undefined; }); }, ms);
    this.timer.unref();
  }

  /** One pass: act on everything due now, then sleep until the next expiry. */
  async tick(): Promise<void> {
    const now = this.d.now();
    for (const rec of this.d.store.dueAt(now)) {
      const action = expiryAction(rec, now);
      if (action === 'none') continue;
      try {
        await this.d.service.expire(rec, action);
      } catch (err) {
        const e = asAgentboxError(err);
        if (e.code === 'not_found') continue;
        this.d.log('timeout action failed; retrying', { id: rec.id, action, error: e.message });
        this.d.store.update(rec.id, { expiresAt: now + (this.d.retryMs ?? 30_000) });
      }
    }
    this.schedule(sleepUntil(this.d.store.nextExpiry(), this.d.now(), 50, this.d.maxSleepMs ?? 1000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
