/**
 * A small Connect-protocol (JSON codec) client for the guest daemon, reached through the
 * server's port route `/v1/sandboxes/{id}/ports/49983/…` (the server adds the guest's token).
 * Used for what a plain request/response cannot do: background processes with stdin, PTYs.
 */
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { AgentboxSdkError, errorFromBody } from './errors.ts';
import type { ApiClient } from './api-client.ts';

/** Connect codes → ours, for `errorFromBody` (they coincide but for a few). */
const CONNECT_TO_OURS: Record<string, string> = { failed_precondition: 'conflict', unimplemented: 'not_supported', canceled: 'deadline_exceeded' };

export class EnvdClient {
  constructor(private readonly api: ApiClient, private readonly sandboxId: string) {}

  private path(service: string, method: string): string {
    return `/v1/sandboxes/${this.sandboxId}/ports/${GUEST_PORT}/${service}/${method}`;
  }

  /** Headers: the API key as X-API-Key so Authorization stays free for the guest's user (§3.2). */
  private headers(contentType: string, user?: string): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': contentType, 'Connect-Protocol-Version': '1', 'X-API-Key': this.api.conn.apiKey };
    if (user) h.Authorization = `Basic ${Buffer.from(`${user}:`).toString('base64')}`;
    return h;
  }

  async unary<T>(service: string, method: string, body: unknown, user?: string): Promise<T> {
    const res = await fetch(this.api.url(this.path(service, method)), { method: 'POST', headers: this.headers('application/json', user), body: JSON.stringify(body) });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw errorFromBody(res.status, { ...parsed, code: CONNECT_TO_OURS[String(parsed.code)] ?? parsed.code });
    return parsed as T;
  }

  /** A server-streaming call: yields each message until the end-of-stream frame. */
  async *stream<T>(service: string, method: string, body: unknown, o: { user?: string; signal?: AbortSignal; timeoutMs?: number } = {}): AsyncGenerator<T> {
    const json = Buffer.from(JSON.stringify(body));
    const envelope = Buffer.alloc(5 + json.length);
    envelope.writeUInt32BE(json.length, 1);
    json.copy(envelope, 5);
    const headers = this.headers('application/connect+json', o.user);
    if (o.timeoutMs) headers['Connect-Timeout-Ms'] = String(o.timeoutMs);
    const res = await fetch(this.api.url(this.path(service, method)), { method: 'POST', headers, body: envelope, signal: o.signal });
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let parsed: Record<string, unknown> = {};
      try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { parsed = { message: text }; }
      throw errorFromBody(res.status, { ...parsed, code: CONNECT_TO_OURS[String(parsed.code)] ?? parsed.code });
    }
    let buf = Buffer.alloc(0);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        const flags = buf[0]!;
        const msg = JSON.parse(buf.subarray(5, 5 + len).toString('utf8')) as Record<string, unknown>;
        buf = buf.subarray(5 + len);
        if (flags & 0x02) {
          const err = msg.error as { code?: string; message?: string } | undefined;
          if (err) throw errorFromBody(0, { code: CONNECT_TO_OURS[err.code ?? ''] ?? err.code, message: err.message });
          return;
        }
        yield msg as T;
      }
    }
    throw new AgentboxSdkError('unavailable', `${method} stream ended without its end frame (the sandbox may have been paused or killed)`);
  }
}
