/**
 * EntryInfo for one path, as Stat, ListDir, MakeDir, Move and watch events report it.
 *
 * A symlink is reported as envd 0.6.x does (github.com/e2b-dev/infra, packages/shared/pkg/filesystem,
 * entry code): `type` and `mode` are its target's, `isSymlink` marks the link, `symlinkTarget` is
 * the fully resolved path, and size and mtime stay the link's own. SDKs that know `isSymlink`
 * (PyPI e2b) show a symlink; older ones (npm e2b 2.51) show the target's type. A dangling link
 * stays a SYMLINK whose target is its text resolved against its directory, where envd reports an
 * unknown type (which npm e2b's list drops) and the link's own path (docs/e2b.md).
 */
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { FileType, type EntryInfoSchema } from '../gen/filesystem_pb.ts';
import type { UserDb } from '../users.ts';
import { fsError } from '../errors.ts';
import { readMetadata } from './metadata.ts';

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

/** Where a symlink leads: its resolved path and what is there, or only its text when it dangles. */
function followLink(path: string): { target: string; st?: Stats } | undefined {
  try {
    const target = realpathSync(path);
    return { target, st: statSync(target) };
  } catch {
    try { return { target: resolve(dirname(path), readlinkSync(path)) }; } catch { return undefined; /* raced away */ }
  }
}

/** `st` is lstat's view of `path`. */
export function entryFromStats(path: string, st: Stats, users: UserDb): WireEntry {
  const link = st.isSymbolicLink() ? followLink(path) : undefined;
  const shown = link?.st ?? st;
  const entry: WireEntry = {
    name: basename(path),
    type: fileType(shown),
    path,
    size: BigInt(st.size),
    mode: shown.mode & 0o777,
    permissions: permissionString(st),
    owner: users.userName(st.uid),
    group: users.groupName(st.gid),
    modifiedTime: timestampFromMs(Math.floor(st.mtimeMs)),
    isSymlink: st.isSymbolicLink(),
  };
  if (link) entry.symlinkTarget = link.target;
  const metadata = readMetadata(link?.st ? link.target : path);
  if (metadata) entry.metadata = metadata;
  return entry;
}

/** lstat-based entry; a missing path is not_found. */
export function statEntry(path: string, users: UserDb): WireEntry {
  let st: Stats;
  try { st = lstatSync(path); } catch (err) { throw fsError(err, path); }
  return entryFromStats(path, st, users);
}
