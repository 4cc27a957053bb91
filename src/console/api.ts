/**
 * The console's one way to the native API (src/api/native-routes.ts): same origin, the saved key
 * in `Authorization` on every call. An `unauthenticated` answer forgets the key, so the page goes
 * back to the key prompt instead of showing stale data.
 */
import type { ErrorCode } from '../api/errors.ts';
import { forgetKey, savedKey } from './key.ts';

export class ApiError {
  constructor(readonly status: number, readonly code: ErrorCode | string, readonly message: string) {}
  toString(): string { return `${this.code}: ${this.message}`; }
}

/** Called when the server refuses the key; main.ts shows the key prompt again. */
let onUnauthenticated: () => void = () => {};
export const whenUnauthenticated = (f: () => void): void => { onUnauthenticated = f; };

export function authHeaders(): Record<string, string> {
  const key = savedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export interface CallOptions {
  body?: unknown;
  /** A raw request body (an upload) instead of JSON. */
  raw?: Blob;
  query?: Record<string, string | number | undefined>;
  accept?: string;
  signal?: AbortSignal;
}

/** The response of a call that succeeded; a failure throws ApiError with the server's code. */
export async function call(method: string, path: string, o: CallOptions = {}): Promise<Response> {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { ...authHeaders(), ...(o.accept ? { Accept: o.accept } : {}) };
  let body: BodyInit | undefined;
  if (o.raw) { body = o.raw; headers['Content-Type'] = 'application/octet-stream'; }
  else if (o.body !== undefined) { body = JSON.stringify(o.body); headers['Content-Type'] = 'application/json'; }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** The JSON answer of a call (undefined for 204). */
export async function json<T>(method: string, path: string, o: CallOptions = {}): Promise<T> {
  const res = await call(method, path, o);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: { code?: string; message?: string } = {};
  try { body = JSON.parse(text) as typeof body; } catch { body = { message: text || res.statusText }; }
  const err = new ApiError(res.status, body.code ?? `http_${res.status}`, body.message ?? res.statusText);
  if (err.code === 'unauthenticated') { forgetKey(); onUnauthenticated(); }
  return err;
}

/** The lines of an `application/x-ndjson` answer, parsed, as they arrive. */
export async function* ndjsonLines<T>(res: Response): AsyncGenerator<T> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as T;
}
