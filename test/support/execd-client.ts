/**
 * A minimal execd caller for tests: JSON requests with the access token, and the event stream
 * of /command, /session/{id}/run and /code read back as the SDKs read it (one JSON object per
 * non-empty line, an optional `data:` prefix stripped).
 */
import type { ExecdEvent } from '../../src/api/opensandbox-execd.ts';
import { EXECD_TOKEN_HEADER } from '../../src/api/opensandbox-execd.ts';

export interface ExecdCaller {
  url: string;
  token?: string;
}

export function execdFetch(c: ExecdCaller, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string | FormData } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(c.token ? { [EXECD_TOKEN_HEADER]: c.token } : {}), ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${c.url}${path}`, {
    method: init.method ?? (init.body === undefined && init.raw === undefined ? 'GET' : 'POST'),
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
}

export function parseEvents(text: string): ExecdEvent[] {
  return text.split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith(':') && !/^(event|id|retry):/.test(l))
    .map((l) => JSON.parse(l.replace(/^data:\s*/, '')) as ExecdEvent);
}

/** Posts to a streaming route and returns every event once the stream ends. */
export async function streamEvents(c: ExecdCaller, path: string, body: unknown): Promise<{ status: number; contentType: string | null; events: ExecdEvent[] }> {
  const res = await execdFetch(c, path, { body });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), events: res.ok ? parseEvents(text) : [JSON.parse(text) as ExecdEvent] };
}

export const texts = (events: ExecdEvent[], type: ExecdEvent['type']) => events.filter((e) => e.type === type).map((e) => e.text);
