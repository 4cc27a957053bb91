/** Starting a watch for WatchDir and CreateWatcher: path checks and wire events. */
import { statSync, statfsSync } from 'node:fs';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { AgentboxError } from '../../api/errors.ts';
import { EventType, type FilesystemEventSchema } from '../gen/filesystem_pb.ts';
import { fsError } from '../errors.ts';
import type { HandlerContext } from '@connectrpc/connect';
import type { UserDb } from '../users.ts';
import type { GuestContext } from '../context.ts';
import { requestUser, userPath } from '../request-user.ts';
import { entryFromStats } from './entry.ts';
import { DirWatcher } from './watcher.ts';

export type WireEvent = MessageInitShape<typeof FilesystemEventSchema>;

export interface WatchSpec {
  path: string;
  recursive: boolean;
  includeEntry: boolean;
  allowNetworkMounts: boolean;
}

/** The watch a WatchDir or CreateWatcher request asks for, its path resolved for the request's user. */
export function watchSpec(g: GuestContext, req: WatchSpec, ctx: HandlerContext): WatchSpec {
  const user = requestUser(g, ctx);
  return { path: userPath(g, user, req.path), recursive: req.recursive, includeEntry: req.includeEntry, allowNetworkMounts: req.allowNetworkMounts };
}

/**
 * statfs magic numbers of the file systems envd treats as network mounts (NFS, CIFS, SMB, SMB2,
 * FUSE; Linux include/uapi/linux/magic.h): inotify sees only this machine's changes there, so
 * envd refuses to watch them unless the caller allows it (envd 0.6.4).
 */
const NETWORK_FS_TYPES = new Set([0x6969, 0xff534d42, 0x517b, 0xfe534d42, 0x65735546]);

export function isNetworkFsType(type: number | bigint): boolean {
  return NETWORK_FS_TYPES.has(Number(type));
}

/** Only these events describe an entry still at the path; a removed or renamed one has none (as envd). */
const CARRIES_ENTRY = new Set([EventType.CREATE, EventType.WRITE, EventType.CHMOD]);

export function startWatch(spec: WatchSpec, users: UserDb, onEvent: (ev: WireEvent) => void): DirWatcher {
  let isDir: boolean;
  let fsType: number | bigint;
  try {
    isDir = statSync(spec.path).isDirectory();
    fsType = statfsSync(spec.path).type;
  } catch (err) {
    throw fsError(err, spec.path);
  }
  if (!isDir) throw new AgentboxError('invalid_argument', `'${spec.path}' is not a directory; watch its parent instead`);
  if (!spec.allowNetworkMounts && isNetworkFsType(fsType)) {
    throw new AgentboxError('invalid_argument', `cannot watch path on network filesystem: ${spec.path}; events there may never arrive (pass allowNetworkMounts to watch it anyway)`);
  }
  try {
    return new DirWatcher(spec.path, spec.recursive, (raw) => {
      const ev: WireEvent = { name: raw.name, type: raw.type };
      if (spec.includeEntry && raw.stats && CARRIES_ENTRY.has(raw.type)) ev.entry = entryFromStats(raw.path, raw.stats, users);
      onEvent(ev);
    });
  } catch (err) {
    throw fsError(err, spec.path);
  }
}
