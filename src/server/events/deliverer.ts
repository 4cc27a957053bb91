/**
 * Delivers the webhook outbox (outbox.ts): POSTs each due delivery, signed as E2B signs them
 * (signature.ts), to an address the target guard admits (target-guard.ts), and retries a failed
 * one with exponential backoff up to `maxAttempts`, then abandons it (logged). Bounded: at most
 * `concurrency` POSTs in flight, each with a timeout and a body of at most MAX_PAYLOAD_BYTES;
 * answers are not read. Delivery is at least once: a server that dies mid-POST sends it again
 * once the delivery's lease runs out, so receivers dedupe on the event `id` (as on E2B).
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { toE2bEvent } from '../../api/e2b-events.ts';
import { AgentboxError, asAgentboxError } from '../../api/errors.ts';
import { sleepUntil } from '../expiry.ts';
import type { Delivery, Outbox } from './outbox.ts';
import { e2bSignature, SIGNATURE_VERSION } from './signature.ts';
import { checkWebhookUrl, guardedLookup } from './target-guard.ts';

/** Event metadata is bounded (64 entries of 1 KiB), so a real event is far below this. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** How deliveries are paced and bounded; DEFAULT_TUNING unless the server is told otherwise. */
export interface DeliveryTuning {
  /** Longest wait for a receiver's answer. */
  timeoutMs: number;
  /** POSTs in flight at once. */
  concurrency: number;
  /** Attempts per delivery before it is abandoned. */
  maxAttempts: number;
  /** Delay after the first failure; doubled after each further one, up to 10 minutes. */
  retryBaseMs: number;
  /** Longest sleep between looks at the outbox; a new event wakes it through `poke` anyway. */
  maxSleepMs: number;
}

export const DEFAULT_TUNING: DeliveryTuning = { timeoutMs: 10_000, concurrency: 4, maxAttempts: 8, retryBaseMs: 2_000, maxSleepMs: 5_000 };

export interface DelivererOptions {
  outbox: Outbox;
  now: () => number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Lifts the target guard: loopback and private receivers are reached (an admin's choice). */
  allowPrivateTargets: boolean;
  tuning?: Partial<DeliveryTuning>;
}

export class WebhookDeliverer {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly t: DeliveryTuning;

  constructor(private readonly o: DelivererOptions) {
    this.t = { ...DEFAULT_TUNING, ...o.tuning };
  }

  start(): void {
    this.schedule(0);
  }

  /** A new event may have deliveries due now. */
  poke(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    const now = this.o.now();
    const free = this.t.concurrency - this.inFlight.size;
    // The lease outlasts the POST's timeout: only a server that died mid-POST lets it run out.
    const due = free > 0 ? this.o.outbox.claim(now, free, now + 2 * this.t.timeoutMs) : [];
    for (const d of due) {
      const p = this.attempt(d).finally(() => { this.inFlight.delete(p); this.poke(); });
      this.inFlight.add(p);
    }
    if (this.inFlight.size < this.t.concurrency) this.schedule(sleepUntil(this.o.outbox.nextDue(), this.o.now(), 50, this.t.maxSleepMs));
  }

  private async attempt(d: Delivery): Promise<void> {
    const body = JSON.stringify(toE2bEvent(d.event));
    if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) return this.abandon(d, `payload of ${Buffer.byteLength(body)} bytes is over ${MAX_PAYLOAD_BYTES}`);
    try {
      checkWebhookUrl(d.url, this.o.allowPrivateTargets);
      const status = await this.post(d, body);
      if (status >= 200 && status < 300) {
        this.o.outbox.finish(d.id);
        return;
      }
      throw new AgentboxError('unavailable', status >= 300 && status < 400 ? `answered ${status}; redirects are not followed` : `answered ${status}`);
    } catch (err) {
      const e = asAgentboxError(err);
      // A refused target stays refused: retrying would only knock on the same door.
      if (e.code === 'permission_denied' || d.attempts + 1 >= this.t.maxAttempts) return this.abandon(d, e.message);
      this.o.outbox.retryAt(d.id, this.o.now() + Math.min(this.t.retryBaseMs * 2 ** d.attempts, 600_000), e.message);
    }
  }

  private abandon(d: Delivery, error: string): void {
    this.o.log('webhook delivery abandoned', { webhook: d.webhookId, event: d.event.id, attempts: d.attempts + 1, error });
    this.o.outbox.finish(d.id);
  }

  /** One POST; resolves with the status (the answer's body is discarded unread). */
  private post(d: Delivery, body: string): Promise<number> {
    const url = new URL(d.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        lookup: guardedLookup(this.o.allowPrivateTargets),
        timeout: this.t.timeoutMs,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'agentbox-webhooks',
          'e2b-webhook-id': d.webhookId,
          'e2b-delivery-id': randomUUID(),
          'e2b-signature-version': SIGNATURE_VERSION,
          'e2b-signature': e2bSignature(d.secret, body),
        },
      }, (res: IncomingMessage) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        res.destroy();
      });
      req.on('timeout', () => req.destroy(new AgentboxError('deadline_exceeded', `no answer within ${this.t.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}
