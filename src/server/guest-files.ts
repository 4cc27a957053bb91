/**
 * Files inside a sandbox for the service: a port (`SandboxFiles`), so the service does not care
 * how files are reached, and its adapter over the host's guest client (src/envd/files.ts), which
 * turns the guest's typed answers into the API's views.
 */
import { toJson } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';
import type { FileEntryView, WatchEventView } from '../api/native.ts';
import { createGuestClient, type GuestClient } from '../envd/client.ts';
import type { FileContent, FileDownload } from '../envd/files.ts';
import { EventType, FileType, type EntryInfo } from '../guest/gen/filesystem_pb.ts';
import type { GuestEndpoint } from '../engine/types.ts';
import { KeyedPool } from './keyed-pool.ts';

/**
 * Bounds on what a guest may make the server read. Everything a guest sends is hostile: root in
 * a sandbox can replace the guest daemon with anything that speaks HTTP on its port.
 */
export interface GuestReadLimits {
  /** Largest file one download may stream (default 16 GiB). */
  maxDownloadBytes?: number;
}

const DEFAULT_MAX_DOWNLOAD_BYTES = 16 * 1024 ** 3;

/**
 * Where a guest is reached: its URL and token, and headers when a router stands between;
 * `sandbox` is the id `forget` drops its connections by.
 */
export type GuestAddress = Pick<GuestEndpoint, 'url' | 'accessToken'> & { headers?: Record<string, string>; sandbox?: string };

export interface SandboxFiles {
  read(guest: GuestAddress, path: string): Promise<FileDownload>;
  write(guest: GuestAddress, path: string, data: FileContent): Promise<FileEntryView>;
  remove(guest: GuestAddress, path: string): Promise<void>;
  list(guest: GuestAddress, path: string, depth: number): Promise<FileEntryView[]>;
  stat(guest: GuestAddress, path: string): Promise<FileEntryView>;
  /**
   * Calls `onEvent` (awaiting it: backpressure) until `signal` aborts or the guest ends the
   * stream: `start` first, once the watch is live in the sandbox, then one event per change.
   */
  watch(guest: GuestAddress, path: string, onEvent: (e: WatchEventView) => void | Promise<void>, signal: AbortSignal): Promise<void>;
  /**
   * Drops the kept-alive connections to a sandbox that was paused, resumed or checkpointed
   * (ServiceEvents.checkpointed): a restore does not keep every host connection alive (one
   * restored into another address, as a fork or a golden snapshot's copy is, keeps none on its
   * next checkpoint), and the next request on a dead one fails with ECONNRESET.
   */
  forget(sandbox: string): void;
}

const TYPES: Partial<Record<FileType, FileEntryView['type']>> = { [FileType.FILE]: 'file', [FileType.DIRECTORY]: 'dir', [FileType.SYMLINK]: 'symlink' };
const CHANGES: Partial<Record<EventType, Exclude<WatchEventView['type'], 'start'>>> = {
  [EventType.CREATE]: 'create', [EventType.WRITE]: 'write', [EventType.REMOVE]: 'remove', [EventType.RENAME]: 'rename', [EventType.CHMOD]: 'chmod',
};

function toEntry(e: EntryInfo): FileEntryView {
  const v: FileEntryView = { name: e.name, path: e.path, type: e.isSymlink ? 'symlink' : TYPES[e.type] ?? 'other', size: Number(e.size), mode: e.mode };
  // The proto JSON form of a Timestamp: RFC 3339 with the guest's nanoseconds kept.
  if (e.modifiedTime) v.modifiedTime = toJson(TimestampSchema, e.modifiedTime) as string;
  return v;
}

export function createEnvdFiles(limits: GuestReadLimits = {}): SandboxFiles & { close(): void } {
  const maxDownload = limits.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  // One client per sandbox, keyed by its id, its guest's token, which is unique per sandbox
  // (see keyed-pool.ts for why), its URL and its routing headers.
  const clients = new KeyedPool<GuestClient>(512, (key) => {
    const [, accessToken, url, headers] = key.split('\n') as [string, string, string, string];
    return createGuestClient({ url, accessToken, headers: JSON.parse(headers) as Record<string, string> });
  }, (c) => c.close());
  const files = (g: GuestAddress) => clients.get(`${g.sandbox ?? ''}\n${g.accessToken}\n${g.url}\n${JSON.stringify(g.headers ?? {})}`).files;
  return {
    close: () => clients.close(),
    forget: (sandbox) => clients.forgetWhere((key) => key.startsWith(`${sandbox}\n`)),
    read: (g, path) => files(g).download(path, maxDownload),
    async write(g, path, data) {
      await files(g).upload(path, data);
      return this.stat(g, path);
    },
    remove: (g, path) => files(g).remove(path),
    list: async (g, path, depth) => (await files(g).listDir(path, depth)).map(toEntry),
    stat: async (g, path) => toEntry(await files(g).stat(path)),
    watch: (g, path, onEvent, signal) => files(g).watchDir(path, async (e) => {
      if (e.case === 'start') await onEvent({ type: 'start' });
      // An event type this server does not know yet still says that something changed.
      else if (e.case === 'filesystem') await onEvent({ type: CHANGES[e.value.type] ?? 'write', name: e.value.name });
    }, signal),
  };
}
