/**
 * Lifecycle events (`GET /v1/events`, docs/events.md) from the SDK: the stored ones page by page,
 * and with `follow` the live Server-Sent Events stream after them, resumed from the last `seq`
 * seen if the connection drops.
 */
import type { EventType, SandboxEventView } from '../api/events.ts';
import { routePath, type ApiClient } from './api-client.ts';

export type SandboxEvent = SandboxEventView;

export interface EventsOptions {
  sandboxId?: string;
  types?: EventType[];
  /** Events at or after this time. */
  since?: Date;
  /** Events after this `seq`. */
  after?: number;
  /** Keep streaming new events until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
}

const PAGE = 1000;

export async function* sandboxEvents(api: ApiClient, o: EventsOptions): AsyncGenerator<SandboxEvent> {
  const query = { sandboxId: o.sandboxId, types: o.types?.join(','), since: o.since?.toISOString() };
  let after = o.after;
  if (!o.follow) {
    for (;;) {
      const res = await api.call('listEvents', {}, { query: { ...query, after, limit: PAGE }, ...(o.signal ? { signal: o.signal } : {}) });
      yield* res.events;
      if (res.events.length < PAGE) return;
      after = res.events[res.events.length - 1]!.seq;
    }
  }
  // The stream ends only when the server or the network drops it: then it resumes from `after`.
  while (!o.signal?.aborted) {
    try {
      for await (const e of sseStream(api, { ...query, ...(after !== undefined ? { after } : {}) }, o.signal)) {
        after = e.seq;
        yield e;
      }
    } catch (err) {
      if (o.signal?.aborted) return;
      throw err;
    }
  }
}

async function* sseStream(api: ApiClient, query: Record<string, string | number | undefined>, signal?: AbortSignal): AsyncGenerator<SandboxEvent> {
  const res = await api.request('GET', routePath('listEvents', {}), { query, accept: 'text/event-stream', timeoutMs: 0, ...(signal ? { signal } : {}) });
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const data = /^data: (.*)$/m.exec(buf.slice(0, end))?.[1];
      buf = buf.slice(end + 2);
      if (data !== undefined) yield JSON.parse(data) as SandboxEvent;
    }
  }
}
