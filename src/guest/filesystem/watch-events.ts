/** Starting a watch for WatchDir and CreateWatcher: path checks and wire events. */
import { statSync } from 'node:fs';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { AgentboxError } from '../../api/errors.ts';
import type { FilesystemEventSchema } from '../gen/filesystem_pb.ts';
import { fsError } from '../errors.ts';
import type { UserDb } from '../users.ts';
import { entryFromStats } from './entry.ts';
import { DirWatcher } from './watcher.ts';

export type WireEvent = MessageInitShape<typeof FilesystemEventSchema>;

export interface WatchSpec {
  path: string;
  recursive: boolean;
  includeEntry: boolean;
}

export function startWatch(spec: WatchSpec, users: UserDb, onEvent: (ev: WireEvent) => void): DirWatcher {
  let isDir: boolean;
  try { isDir = statSync(spec.path).isDirectory(); } catch (err) { throw fsError(err, spec.path); }
  if (!isDir) throw new AgentboxError('invalid_argument', `'${spec.path}' is not a directory; watch its parent instead`);
  try {
    return new DirWatcher(spec.path, spec.recursive, (raw) => {
      const ev: WireEvent = { name: raw.name, type: raw.type };
      if (spec.includeEntry && raw.stats) ev.entry = entryFromStats(raw.path, raw.stats, users);
      onEvent(ev);
    });
  } catch (err) {
    throw fsError(err, spec.path);
  }
}
