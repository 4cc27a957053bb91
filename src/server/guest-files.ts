/**
 * Files inside a sandbox, served by its guest daemon (envd protocol: `/files` for content,
 * `filesystem.Filesystem` Connect-JSON RPCs for the rest; shared/reference/e2b.md §3.4, §3.6).
 * A port (`SandboxFiles`) so the service does not care how files are reached.
 */
import { Agent, fetch } from 'undici';
import { AgentboxError, type ErrorCode } from '../api/errors.ts';
import type { FileEntryView, WatchEventView } from '../api/native.ts';
import type { GuestEndpoint } from '../engine/types.ts';
import { KeyedPool } from './keyed-pool.ts';

/** A file's content: whole, or as chunks streamed from the client (uploads are not buffered). */
export type FileContent = Uint8Array | AsyncIterable<Uint8Array>;

export interface SandboxFiles {
  read(guest: GuestEndpoint, path: string): Promise<Uint8Array>;
  write(guest: GuestEndpoint, path: string, data: FileContent): Promise<FileEntryView>;
  remove(guest: GuestEndpoint, path: string): Promise<void>;
  list(guest: GuestEndpoint, path: string, depth: number): Promise<FileEntryView[]>;
  stat(guest: GuestEndpoint, path: string): Promise<FileEntryView>;
  /** Calls `onEvent` until `signal` aborts or the guest ends the stream. */
  watch(guest: GuestEndpoint, path: string, onEvent: (e: WatchEventView) => void, signal: AbortSignal): Promise<void>;
}

/** Connect error codes → ours (the Connect names mostly coincide). */
const CONNECT_CODES: Record<string, ErrorCode> = {
  invalid_argument: 'invalid_argument', not_found: 'not_found', already_exists: 'already_exists',
  permission_denied: 'permission_denied', resource_exhausted: 'resource_exhausted', failed_precondition: 'conflict',
  deadline_exceeded: 'deadline_exceeded', unavailable: 'unavailable', unimplemented: 'not_supported',
};

async function guestError(res: { status: number; text(): Promise<string> }, what: string): Promise<AgentboxError> {
  const text = await res.text().catch(() => '');
  let body: { code?: unknown; message?: unknown } = {};
  try { body = JSON.parse(text) as typeof body; } catch { /* not JSON: use the status */ }
  const byStatus: Record<number, ErrorCode> = { 400: 'invalid_argument', 404: 'not_found', 409: 'already_exists', 507: 'resource_exhausted' };
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

export function createEnvdFiles(): SandboxFiles & { close(): void } {
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
    return (await res.json()) as T;
  };
  return {
    close: () => pools.close(),
    async read(g, path) {
      const res = await fetchGuest(g, `/files?path=${encodeURIComponent(path)}`, { headers: headers(g) });
      if (!res.ok) throw await guestError(res, `read ${path}`);
      return new Uint8Array(await res.arrayBuffer());
    },
    async write(g, path, data) {
      const res = await fetchGuest(g, `/files?path=${encodeURIComponent(path)}`, {
        method: 'POST', body: data, duplex: 'half', headers: headers(g, { 'Content-Type': 'application/octet-stream' }),
      });
      if (!res.ok) throw await guestError(res, `write ${path}`);
      await res.arrayBuffer();
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
          if (ev) onEvent({ type: EVENTS[ev.type] ?? 'write', name: ev.name });
        }
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
    },
  };
}

/** Splits a Connect streaming body into enveloped JSON frames (1 flag byte + 4-byte length). */
export async function* connectFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ flags: number; json: unknown }> {
  let buf = Buffer.alloc(0);
  for await (const chunk of body) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const flags = buf[0]!;
      const json = JSON.parse(buf.subarray(5, 5 + len).toString('utf8')) as unknown;
      buf = buf.subarray(5 + len);
      yield { flags, json };
    }
  }
}
