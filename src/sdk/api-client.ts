/**
 * The raw HTTP client of the native API: requests, typed errors, NDJSON streams. Everything
 * above it (Sandbox, Commands, Files) builds on these few calls.
 */
import type { z } from 'zod';
import { nativeApi, type NativeApi } from '../api/native-routes.ts';
import { fillPath, type AnswerOf, type BodyInput, type PathParams } from '../api/route.ts';
import { AgentboxSdkError, errorFromBody, TimeoutError, UnavailableError } from './errors.ts';
import type { ResolvedConnection } from './config.ts';
import { StallTimer, uploadStream, type UploadData } from './transfer.ts';

export interface RequestOptions {
  json?: unknown;
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
  query?: Record<string, string | number | string[] | undefined>;
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides the connection's request timeout; 0 = none (streams). */
  timeoutMs?: number;
}

/** A native route by id (src/api/native-routes.ts). */
export type RouteId = keyof NativeApi;
/** A call's options; the JSON body is typed from the route's own schema (what the server validates). */
export type CallOptions<K extends RouteId> = Omit<RequestOptions, 'json'> & (NativeApi[K] extends { body: z.ZodType } ? { json: BodyInput<NativeApi[K]> } : { json?: never });

/** The path of a native route with its parameters filled in. */
export function routePath<K extends RouteId>(id: K, params: PathParams<NativeApi[K]['path']>): string {
  return fillPath<NativeApi[K]['path']>(nativeApi[id].path, params);
}

/**
 * fetch's options for a streamed body. 'half' is the only duplex fetch has: the body is sent while
 * the answer is awaited. A fetch that may follow a redirect first tees its body to send it again,
 * and the branch nobody reads keeps every chunk (a 300 MB upload held 300 MB); a streamed body
 * cannot be sent twice anyway, so a redirect is an error and there is no window to clone for.
 */
const STREAMED = { duplex: 'half', redirect: 'error', window: null } as const;

export class ApiClient {
  constructor(readonly conn: ResolvedConnection) {}

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.conn.apiUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(one));
    }
    return u.toString();
  }

  /** Sends a request; non-2xx answers become typed errors. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.conn.apiKey}`, ...(o.headers ?? {}) };
    let body: RequestOptions['body'];
    if (o.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(o.json); }
    else if (o.body !== undefined) { headers['Content-Type'] = 'application/octet-stream'; body = o.body; }
    if (o.accept) headers.Accept = o.accept;
    const timeoutMs = o.timeoutMs ?? this.conn.requestTimeoutMs;
    const signals = [o.signal, timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined].filter((s): s is AbortSignal => !!s);
    let res: Response;
    try {
      res = await fetch(this.url(path, o.query), { method, headers, body, signal: signals.length ? AbortSignal.any(signals) : undefined, ...(body instanceof ReadableStream ? STREAMED : {}) });
    } catch (err) {
      // An SDK error thrown while the body streamed (a stall, a chunk that is not bytes) comes back as fetch's cause.
      if (err instanceof AgentboxSdkError) throw err;
      if ((err as Error).cause instanceof AgentboxSdkError) throw (err as Error).cause;
      if ((err as Error).name === 'TimeoutError') throw new TimeoutError('deadline_exceeded', `${method} ${path} took longer than ${timeoutMs} ms: raise requestTimeoutMs`, { cause: err });
      if ((err as Error).name === 'AbortError') throw err;
      throw new UnavailableError('unavailable', `cannot reach the agentbox server at ${this.conn.apiUrl}: ${(err as Error).message} (is \`agentbox up\` running?)`, { cause: err });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let parsed: { code?: unknown; message?: unknown; details?: unknown } | undefined;
      try { parsed = JSON.parse(text) as typeof parsed; } catch { parsed = text ? { message: text } : undefined; }
      throw errorFromBody(res.status, parsed);
    }
    return res;
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** Calls a native route: method and path from the route table, the answer typed from its response schema. */
  async call<K extends RouteId>(id: K, params: PathParams<NativeApi[K]['path']>, o: CallOptions<K>): Promise<AnswerOf<NativeApi[K]>> {
    return this.json<AnswerOf<NativeApi[K]>>(nativeApi[id].method, routePath(id, params), o);
  }

  /**
   * Sends `data` as a file's content, streamed; fails with deadline_exceeded only when nothing
   * moves for requestTimeoutMs (the whole upload may take longer). The server's answer after the
   * last byte gets one more such period, or as long as it takes with `answerUnbounded` (a
   * template built from the upload).
   */
  async upload<T>(method: string, path: string, data: UploadData, o: Omit<RequestOptions, 'body' | 'json' | 'timeoutMs'> & { answerUnbounded?: boolean } = {}): Promise<T> {
    const { answerUnbounded, ...rest } = o;
    const stall = new StallTimer(this.conn.requestTimeoutMs, `${method} ${path}`);
    try {
      const body = stall.watch(uploadStream(data), () => (answerUnbounded ? stall.stop() : stall.moved()));
      return await this.json<T>(method, path, { ...rest, body, timeoutMs: 0, signal: rest.signal ? AbortSignal.any([rest.signal, stall.signal]) : stall.signal });
    } finally {
      stall.stop();
    }
  }

  /** A file's bytes as they arrive; fails with deadline_exceeded when they stop arriving for requestTimeoutMs. */
  async download(path: string, o: Omit<RequestOptions, 'body' | 'json' | 'timeoutMs'> = {}): Promise<ReadableStream<Uint8Array>> {
    const stall = new StallTimer(this.conn.requestTimeoutMs, `GET ${path}`);
    try {
      const res = await this.request('GET', path, { ...o, timeoutMs: 0, signal: o.signal ? AbortSignal.any([o.signal, stall.signal]) : stall.signal });
      stall.moved();
      return stall.watch(res.body ?? ReadableStream.from([]), () => stall.stop());
    } catch (err) {
      stall.stop();
      throw err;
    }
  }

  /** The lines of an `application/x-ndjson` answer, parsed. */
  async *ndjson<T>(method: string, path: string, o: RequestOptions = {}): AsyncGenerator<T> {
    const res = await this.request(method, path, { ...o, accept: 'application/x-ndjson', timeoutMs: 0 });
    if (!res.body) throw new AgentboxSdkError('internal', 'the server sent no stream');
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as T;
      }
    }
  }
}
