/**
 * Files inside a sandbox, served by its guest daemon (envd protocol: `/files` for content,
 * `filesystem.Filesystem` Connect-JSON RPCs for the rest; E2B's published spec, github.com/e2b-dev/E2B `spec/`).
 * A port (`SandboxFiles`) so the service does not care how files are reached.
 */
import { Agent, fetch } from 'undici';
import { AgentboxError, type ErrorCode } from '../api/errors.ts';
import type { FileEntryView, WatchEventView } from '../api/native.ts';
import type { GuestEndpoint } from '../engine/types.ts';
import { KeyedPool } from './keyed-pool.ts';

/** A file's content: whole, or as chunks streamed from the client (uploads are not buffered). */
export type FileContent = Uint8Array | AsyncIterable<Uint8Array>;

/** A file being read: streamed from the sandbox, never held whole in the server. */
export interface FileDownload {
  /** Bytes the sandbox announced, when it did. */
  size?: number;
  body: AsyncIterable<Uint8Array>;
}

/**
 * Bounds on what a guest may make the server read. Everything a guest sends is hostile: root in
 * a sandbox can replace the guest daemon with anything that speaks HTTP on its port.
 */
export interface GuestReadLimits {
  /** Largest file one download may stream (default 16 GiB). */
  maxDownloadBytes?: number;
}

/** Largest JSON answer, error body or Connect frame read from a guest. */
export const MAX_GUEST_MESSAGE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_DOWNLOAD_BYTES = 16 * 1024 ** 3;

export interface SandboxFiles {
  read(guest: GuestEndpoint, path: string): Promise<FileDownload>;
  write(guest: GuestEndpoint, path: string, data: FileContent): Promise<FileEntryView>;
  remove(guest: GuestEndpoint, path: string): Promise<void>;
  list(guest: GuestEndpoint, path: string, depth: number): Promise<FileEntryView[]>;
  stat(guest: GuestEndpoint, path: string): Promise<FileEntryView>;
  /** Calls `onEvent` (awaiting it: backpressure) until `signal` aborts or the guest ends the stream. */
  watch(guest: GuestEndpoint, path: string, onEvent: (e: WatchEventView) => void | Promise<void>, signal: AbortSignal): Promise<void>;
}

/** Connect error codes → ours (the Connect names mostly coincide). */
const CONNECT_CODES: Record<string, ErrorCode> = {
  invalid_argument: 'invalid_argument', not_found: 'not_found', already_exists: 'already_exists',
  permission_denied: 'permission_denied', resource_exhausted: 'resource_exhausted', failed_precondition: 'conflict',
  deadline_exceeded: 'deadline_exceeded', unavailable: 'unavailable', unimplemented: 'not_supported',
};

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

async function guestError(res: GuestResponse, what: string): Promise<AgentboxError> {
  const text = (await boundedBody(res, 64 * 1024, what).catch(() => Buffer.alloc(0))).toString('utf8');
  let body: { code?: unknown; message?: unknown } = {};
  try { body = JSON.parse(text) as typeof body; } catch { /* not JSON: use the status */ }
  const byStatus: Record<number, ErrorCode> = { 400: 'invalid_argument', 401: 'unauthenticated', 403: 'permission_denied', 404: 'not_found', 409: 'already_exists', 507: 'resource_exhausted' };
  const code = (typeof body.code === 'string' ? CONNECT_CODES[body.code] : undefined) ?? byStatus[res.status] ?? 'internal';
  const message = typeof body.message === 'string' ? body.message : text || `guest answered ${res.status}`;
  return new AgentboxError(code, `${what}: ${message}`);
}

const TYPES: Record<string, FileEntryView['type']> = { FILE_TYPE_FILE: 'file', FILE_TYPE_DIRECTORY: 'dir', FILE_TYPE_SYMLINK: 'symlink' };
const EVENTS: Record<string, WatchEventView['type']> = { EVENT_TYPE_CREATE: 'create', EVENT_TYPE_WRITE: 'write', EVENT_TYPE_REMOVE: 'remove', EVENT_TYPE_RENAME: 'rename', EVENT_TYPE_CHMOD: 'chmod' };

interface EntryInfo { name: string; path: string; type?: string; size?: string | number; mode?: number; modifiedTime?: string }

function toEntry(e: EntryInfo): FileEntryView {
  const v: FileEntryView = { name: e.name, path: e.path, type: TYPES[e.type ?? ''] ?? 'other', size: Number(e.size ?? 0), mode: e.mode ?? 0 };
  if (e.modifiedTime) v.modifiedTime = e.modifiedTime;
  return v;
}

export function createEnvdFiles(limits: GuestReadLimits = {}): SandboxFiles & { close(): void } {
  const maxDownload = limits.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  // Keyed by the guest's token, which is unique per sandbox (see keyed-pool.ts for why).
  const pools = new KeyedPool(512, () => new Agent({ keepAliveTimeout: 10_000 }), (a) => { void a.close(); });
  const fetchGuest = (g: GuestEndpoint, path: string, init: Parameters<typeof fetch>[1] = {}) =>
    fetch(`${g.url}${path}`, { ...init, dispatcher: pools.get(g.accessToken) }).catch((err: unknown) => {
      if (init.signal?.aborted) throw err;
      // The upload stream itself failed (the client sent too much): that error is the answer.
      if ((err as { cause?: unknown }).cause instanceof AgentboxError) throw (err as { cause: AgentboxError }).cause;
      throw new AgentboxError('unavailable', `the sandbox's guest did not answer (${(err as Error).message}); retry in a moment`, { cause: err });
    });
  const headers = (g: GuestEndpoint, extra: Record<string, string> = {}) => ({ 'X-Access-Token': g.accessToken, ...extra });
  const unary = async <T>(g: GuestEndpoint, method: string, body: unknown): Promise<T> => {
    const res = await fetchGuest(g, `/filesystem.Filesystem/${method}`, {
      method: 'POST', body: JSON.stringify(body),
      headers: headers(g, { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' }),
    });
    if (!res.ok) throw await guestError(res, method);
    const text = (await boundedBody(res, MAX_GUEST_MESSAGE_BYTES, method)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new AgentboxError('unavailable', `${method}: the sandbox's guest answered with invalid JSON`, { cause: err });
    }
  };
  return {
    close: () => pools.close(),
    async read(g, path) {
      const tooLarge = (size: number) => new AgentboxError('resource_exhausted', `${path} is ${size} bytes, more than the server's download cap of ${maxDownload} bytes; read it in parts (e.g. split it with exec)`, { details: { maxDownloadBytes: maxDownload } });
      // The guest streams without a length: its stat lets a file over the cap be refused before
      // the answer starts (the stream is capped as well, whatever the guest says).
      const entry = await this.stat(g, path).catch(() => undefined);
      if (entry?.type === 'file' && entry.size > maxDownload) throw tooLarge(entry.size);
      const res = await fetchGuest(g, `/files?path=${encodeURIComponent(path)}`, { headers: headers(g) });
      if (!res.ok) throw await guestError(res, `read ${path}`);
      const declared = res.headers.get('content-length');
      const size = declared === null ? undefined : Number(declared);
      if (size !== undefined && size > maxDownload) {
        await res.body?.cancel().catch(() => undefined);
        throw tooLarge(size);
      }
      const body = capped((res.body ?? []) as AsyncIterable<Uint8Array>, maxDownload, path);
      return size === undefined ? { body } : { size, body };
    },
    async write(g, path, data) {
      const res = await fetchGuest(g, `/files?path=${encodeURIComponent(path)}`, {
        method: 'POST', body: data, duplex: 'half', headers: headers(g, { 'Content-Type': 'application/octet-stream' }),
      });
      if (!res.ok) throw await guestError(res, `write ${path}`);
      await boundedBody(res, MAX_GUEST_MESSAGE_BYTES, `write ${path}`);
      return this.stat(g, path);
    },
    async remove(g, path) {
      await unary(g, 'Remove', { path });
    },
    async list(g, path, depth) {
      const res = await unary<{ entries?: EntryInfo[] }>(g, 'ListDir', { path, depth });
      return (res.entries ?? []).map(toEntry);
    },
    async stat(g, path) {
      const res = await unary<{ entry: EntryInfo }>(g, 'Stat', { path });
      return toEntry(res.entry);
    },
    async watch(g, path, onEvent, signal) {
      const json = Buffer.from(JSON.stringify({ path, recursive: true }));
      const envelope = Buffer.alloc(5 + json.length);
      envelope.writeUInt32BE(json.length, 1);
      json.copy(envelope, 5);
      const res = await fetchGuest(g, '/filesystem.Filesystem/WatchDir', {
        method: 'POST', body: envelope, signal,
        headers: headers(g, { 'Content-Type': 'application/connect+json', 'Connect-Protocol-Version': '1' }),
      }).catch((err: unknown) => { if (signal.aborted) return undefined; throw err; });
      if (!res) return;
      if (!res.ok || !res.body) throw await guestError(res, `watch ${path}`);
      const body = res.body as AsyncIterable<Uint8Array>;
      try {
        for await (const frame of connectFrames(body)) {
          if (frame.flags & 0x02) {
            const end = frame.json as { error?: { code?: string; message?: string } };
            if (end.error) throw new AgentboxError(CONNECT_CODES[end.error.code ?? ''] ?? 'internal', `watch ${path}: ${end.error.message ?? ''}`);
            return;
          }
          // WatchDirResponse's oneof is flattened in proto JSON: {start} | {filesystem} | {keepalive}.
          const ev = (frame.json as { filesystem?: { name: string; type: string } }).filesystem;
          if (ev) await onEvent({ type: EVENTS[ev.type] ?? 'write', name: String(ev.name) });
        }
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
    },
  };
}

/**
 * Splits a Connect streaming body into enveloped JSON frames (1 flag byte + 4-byte length). A
 * length above `maxFrameBytes` is refused as soon as its header arrives, before any of it is held.
 */
export async function* connectFrames(body: AsyncIterable<Uint8Array>, maxFrameBytes = MAX_GUEST_MESSAGE_BYTES): AsyncGenerator<{ flags: number; json: unknown }> {
  // Chunks are joined only once a whole frame is there, so a large frame costs one copy.
  let pending: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    pending.push(chunk);
    size += chunk.length;
    while (size >= 5) {
      if (pending[0]!.length < 5) pending = [Buffer.concat(pending, size)];
      const head = pending[0]!;
      const len = Buffer.from(head.buffer, head.byteOffset, head.byteLength).readUInt32BE(1);
      if (len > maxFrameBytes) {
        throw new AgentboxError('unavailable', `the sandbox's guest announced a ${len}-byte frame, more than the ${maxFrameBytes} accepted; it is not the agentbox guest or is broken`);
      }
      if (size < 5 + len) break;
      let buf = Buffer.concat(pending, size);
      let json: unknown;
      try {
        json = JSON.parse(buf.subarray(5, 5 + len).toString('utf8'));
      } catch (err) {
        throw new AgentboxError('unavailable', 'the sandbox\'s guest sent a frame that is not JSON', { cause: err });
      }
      const flags = buf[0]!;
      buf = buf.subarray(5 + len);
      pending = buf.length ? [buf] : [];
      size = buf.length;
      yield { flags, json };
    }
  }
}
