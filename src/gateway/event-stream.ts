/**
 * `GET /v1/events` as Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * the stored events after the client's position (`Last-Event-ID`, else `after`, else `since`),
 * then each new one as it is committed. Every event carries `id: <seq>`, so a client that
 * reconnects with the last id it saw misses nothing and sees nothing twice. A client that reads
 * too slowly is cut off (it resumes the same way) rather than held in the server's memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxEventView } from '../api/events.ts';
import { MAX_EVENT_PAGE } from '../api/events.ts';
import { AgentboxError } from '../api/errors.ts';
import type { EventOps, EventQuery, Principal } from '../server/backend.ts';

/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** Bytes buffered for a slow reader before it is cut off. */
const MAX_BUFFERED = 1024 * 1024;

export const wantsEventStream = (req: IncomingMessage) => (req.headers.accept ?? '').includes('text/event-stream');

/** The seq after which the stream starts: Last-Event-ID wins over `?after=`. */
export function resumePoint(req: IncomingMessage, after: number | undefined): number | undefined {
  const raw = req.headers['last-event-id'];
  if (raw === undefined || Array.isArray(raw)) return after;
  if (!/^\d{1,15}$/.test(raw.trim())) throw new AgentboxError('invalid_argument', `Last-Event-ID '${raw}' is not an event id this server sent (a seq number)`);
  return Number(raw.trim());
}

export async function serveEventStream(req: IncomingMessage, res: ServerResponse, events: EventOps, p: Principal, q: Omit<EventQuery, 'limit'>): Promise<void> {
  let last = q.after ?? 0;
  const pending: SandboxEventView[] = [];
  let live = false;
  const send = (e: SandboxEventView) => {
    if (e.seq <= last || res.destroyed) return;
    last = e.seq;
    res.write(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
    if (res.writableLength > MAX_BUFFERED) res.destroy();
  };
  // Subscribed before the backlog is read, so an event committed in between is not lost.
  const unsubscribe = events.subscribe(p, q, (e) => (live ? send(e) : pending.push(e)));
  const heartbeat = setInterval(() => { if (!res.destroyed) res.write(': keepalive\n\n'); }, HEARTBEAT_MS);
  try {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    for (;;) {
      const page = events.list(p, { ...q, after: last, limit: MAX_EVENT_PAGE, order: 'asc' });
      for (const e of page) send(e);
      if (page.length < MAX_EVENT_PAGE) break;
    }
    for (const e of pending.splice(0)) send(e);
    live = true;
    await new Promise<void>((resolve) => {
      if (res.destroyed) return resolve();
      res.on('close', resolve);
      req.on('aborted', resolve);
    });
  } finally {
    clearInterval(heartbeat);
    unsubscribe();
  }
}
