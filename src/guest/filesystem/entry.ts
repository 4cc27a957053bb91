/** EntryInfo for one path, as Stat, ListDir, MakeDir, Move and watch events report it. */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { FileType, type EntryInfoSchema } from '../gen/filesystem_pb.ts';
import type { UserDb } from '../users.ts';
import { fsError } from '../errors.ts';

export type WireEntry = MessageInitShape<typeof EntryInfoSchema>;

function fileType(st: Stats): FileType {
  if (st.isSymbolicLink()) return FileType.SYMLINK;
  if (st.isDirectory()) return FileType.DIRECTORY;
  if (st.isFile()) return FileType.FILE;
  return FileType.UNSPECIFIED;
}

/** ls-style permission string, e.g. "drwxr-xr-x". */
export function permissionString(st: Stats): string {
  const kind = st.isSymbolicLink() ? 'l' : st.isDirectory() ? 'd' : '-';
  const bits = 'rwxrwxrwx';
  let out = kind;
  for (let i = 0; i < 9; i++) out += st.mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

export function entryFromStats(path: string, st: Stats, users: UserDb): WireEntry {
  const entry: WireEntry = {
    name: basename(path),
    type: fileType(st),
    path,
    size: BigInt(st.size),
    mode: st.mode & 0o777,
    permissions: permissionString(st),
    owner: users.userName(st.uid),
    group: users.groupName(st.gid),
    modifiedTime: timestampFromMs(Math.floor(st.mtimeMs)),
  };
  if (st.isSymbolicLink()) {
    try { entry.symlinkTarget = resolve(dirname(path), readlinkSync(path)); } catch { /* raced away */ }
  }
  return entry;
}

/** lstat-based entry; a missing path is not_found. */
export function statEntry(path: string, users: UserDb): WireEntry {
  let st: Stats;
  try { st = lstatSync(path); } catch (err) { throw fsError(err, path); }
  return entryFromStats(path, st, users);
}
