/**
 * A sandbox's files through its guest: the typed `filesystem.Filesystem` calls, and content over
 * envd's `/files` route (plain HTTP, streamed both ways: E2B's published spec,
 * github.com/e2b-dev/E2B `spec/envd/envd.yaml`). Errors are AgentboxError; what a guest sends is
 * bounded before it is held, since root in a sandbox can put anything on the guest's port.
 */
import type { Client } from '@connectrpc/connect';
import { Agent, fetch } from 'undici';
import { ACCESS_TOKEN_HEADER, ERROR_CODE_OF_STATUS } from '../api/envd-protocol.ts';
import { AgentboxError } from '../api/errors.ts';
import type { EntryInfo, Filesystem, WatchDirResponse } from '../guest/gen/filesystem_pb.ts';
import { fromConnectError, GUEST_MAX_MESSAGE_BYTES } from './errors.ts';

/** A file's content: whole, or as chunks streamed from the client (uploads are not buffered). */
export type FileContent = Uint8Array | AsyncIterable<Uint8Array>;

/** A file being read: streamed from the sandbox, never held whole on the host. */
export interface FileDownload {
  /** Bytes the sandbox announced, when it did. */
  size?: number;
  body: AsyncIterable<Uint8Array>;
}

export type WatchDirEvent = WatchDirResponse['event'];

export interface GuestFiles {
  stat(path: string): Promise<EntryInfo>;
  listDir(path: string, depth: number): Promise<EntryInfo[]>;
  remove(path: string): Promise<void>;
  /**
   * Calls `onEvent` for each frame, awaiting it (backpressure): `start` once the watch is live in
   * the sandbox, then the changes. Resolves when `signal` aborts or the guest ends the stream.
   */
  watchDir(path: string, onEvent: (e: WatchDirEvent) => unknown, signal: AbortSignal): Promise<void>;
  /** Streams a file, refused as `resource_exhausted` past `maxBytes` (announced or counted). */
  download(path: string, maxBytes: number): Promise<FileDownload>;
  /** Writes a file from `data`, consumed as the guest takes it. */
  upload(path: string, data: FileContent): Promise<void>;
  close(): void;
}

/**
 * A filesystem call that gets no answer fails after this long, as the undici client these calls
 * went through before did (its default headers timeout); a watch has no limit.
 */
const FILE_CALL_TIMEOUT_MS = 300_000;

type GuestResponse = Awaited<ReturnType<typeof fetch>>;

/** The whole body, refused past `max` bytes (by its Content-Length or as it arrives). */
async function boundedBody(res: GuestResponse, max: number, what: string): Promise<Buffer> {
  const tooBig = () => new AgentboxError('unavailable', `${what}: the sandbox's guest sent more than ${max} bytes; it is not the agentbox guest or is broken`);
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) {
      await res.body?.cancel().catch(() => undefined);
      throw tooBig();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as chunks, failing once more than `max` bytes came (a guest may lie or send no length). */
async function* capped(body: AsyncIterable<Uint8Array>, max: number, what: string): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) throw new AgentboxError('resource_exhausted', `${what} is larger than the server's download cap of ${max} bytes`);
    yield chunk;
  }
}

/** A `/files` error answer: envd's `{code: status, message}` body, read back by its status. */
async function restError(res: GuestResponse, what: string): Promise<AgentboxError> {
  const text = (await boundedBody(res, 64 * 1024, what).catch(() => Buffer.alloc(0))).toString('utf8');
  let body: { message?: unknown } = {};
  try { body = JSON.parse(text) as typeof body; } catch { /* not JSON: the status alone */ }
  const message = typeof body.message === 'string' ? body.message : text || `guest answered ${res.status}`;
  return new AgentboxError(ERROR_CODE_OF_STATUS[res.status] ?? 'internal', `${what}: ${message}`);
}

export function createGuestFiles(filesystem: Client<typeof Filesystem>, base: string, accessToken: string | undefined, routing: Record<string, string> = {}): GuestFiles {
  // Created on the first /files call: the engine's clients never make one.
  let agent: Agent | undefined;
  const headers = (extra: Record<string, string> = {}) => ({ ...(accessToken ? { [ACCESS_TOKEN_HEADER]: accessToken } : {}), ...extra, ...routing });
  const filesUrl = (path: string) => `${base}/files?path=${encodeURIComponent(path)}`;
  // A redirect is never followed: it would send the server to any address it can reach and hand
  // what it found there to the tenant as the file. Refusing redirects (with no window) is also what
  // keeps fetch from teeing the request (the fetch standard's HTTP-network-or-cache fetch clones a
  // request it may have to send again), whose unread copy held every byte of an upload.
  const fetchGuest = (url: string, init: Parameters<typeof fetch>[1] = {}) =>
    fetch(url, { ...init, redirect: 'error', window: null, dispatcher: (agent ??= new Agent({ keepAliveTimeout: 10_000 })) }).catch((err: unknown) => {
      const cause = (err as { cause?: unknown }).cause;
      // The upload stream itself failed (the client sent too much): that error is the answer.
      if (cause instanceof AgentboxError) throw cause;
      if ((cause as Error | undefined)?.message === 'unexpected redirect') {
        throw new AgentboxError('unavailable', 'the sandbox\'s guest answered with a redirect, which is not followed; it is not the agentbox guest or is broken', { cause: err });
      }
      throw new AgentboxError('unavailable', `the sandbox's guest did not answer (${(err as Error).message}); retry in a moment`, { cause: err });
    });
  // A failure the table leaves out (internal, unknown) happened on the guest's side of a file call.
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw fromConnectError(err, what, 'internal');
    }
  };
  const opts = { timeoutMs: FILE_CALL_TIMEOUT_MS };

  return {
    async stat(path) {
      const { entry } = await call('Stat', () => filesystem.stat({ path }, opts));
      if (!entry) throw new AgentboxError('unavailable', `Stat ${path}: the sandbox's guest answered without an entry`);
      return entry;
    },
    async listDir(path, depth) {
      return (await call('ListDir', () => filesystem.listDir({ path, depth }, opts))).entries;
    },
    async remove(path) {
      await call('Remove', () => filesystem.remove({ path }, opts));
    },
    async watchDir(path, onEvent, signal) {
      try {
        for await (const res of filesystem.watchDir({ path, recursive: true }, { signal })) await onEvent(res.event);
      } catch (err) {
        if (signal.aborted) return;
        throw fromConnectError(err, `watch ${path}`, 'internal');
      }
    },
    async download(path, maxBytes) {
      const tooLarge = (size: number) => new AgentboxError('resource_exhausted', `${path} is ${size} bytes, more than the server's download cap of ${maxBytes} bytes; read it in parts (e.g. split it with exec)`, { details: { maxDownloadBytes: maxBytes } });
      // Unencoded: compressing costs the sandbox's CPU for a link that never leaves the host, and
      // fetch decodes an encoded body, whose Content-Length then is not the length of what it yields.
      // The guest gives an unencoded answer its length, so a file over the cap is refused before
      // the answer starts; the stream is capped as well, whatever the guest says.
      const res = await fetchGuest(filesUrl(path), { headers: headers({ 'Accept-Encoding': 'identity' }) });
      if (!res.ok) throw await restError(res, `read ${path}`);
      const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
      const declared = encoded ? null : res.headers.get('content-length');
      const size = declared === null ? undefined : Number(declared);
      if (size !== undefined && size > maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw tooLarge(size);
      }
      const body = capped((res.body ?? []) as AsyncIterable<Uint8Array>, maxBytes, path);
      return size === undefined ? { body } : { size, body };
    },
    async upload(path, data) {
      const res = await fetchGuest(filesUrl(path), {
        method: 'POST', body: data, duplex: 'half', headers: headers({ 'Content-Type': 'application/octet-stream' }),
      });
      if (!res.ok) throw await restError(res, `write ${path}`);
      await boundedBody(res, GUEST_MAX_MESSAGE_BYTES, `write ${path}`);
    },
    close() {
      void agent?.close();
    },
  };
}
