/**
 * execd's streamed answer (OpenSandbox `components/execd` controller/sse.go semantics): each
 * event is one JSON object on its own line followed by a blank line, without `data:` (both SDKs
 * accept either). Headers go out with the first event, so a request refused before any event
 * still gets a JSON error with its status. A `ping` every 3 s keeps proxies from idling it out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecdEvent } from '../../api/opensandbox-execd.ts';

const PING_EVERY_MS = 3000;

export type EventInit = Omit<ExecdEvent, 'timestamp'>;

export interface EventSink {
  send(ev: EventInit): void;
  end(): void;
  /** Aborts when the client goes away before the stream ended. */
  readonly signal: AbortSignal;
}

export function openEventStream(req: IncomingMessage, res: ServerResponse): EventSink {
  const aborted = new AbortController();
  let ping: NodeJS.Timeout | undefined;
  const stop = () => { if (ping) clearInterval(ping); };
  res.once('close', () => {
    stop();
    if (!res.writableFinished) aborted.abort();
  });
  req.once('error', () => aborted.abort());
  const write = (ev: EventInit) => {
    if (res.writableEnded) return;
    if (!res.headersSent) {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
    }
    res.write(`${JSON.stringify({ ...ev, timestamp: Date.now() })}\n\n`);
  };
  return {
    signal: aborted.signal,
    send(ev) {
      write(ev);
      if (ev.type === 'init' && !ping) ping = setInterval(() => write({ type: 'ping', text: 'pong' }), PING_EVERY_MS);
    },
    end() {
      stop();
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end();
    },
  };
}
