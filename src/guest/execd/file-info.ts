/** execd's FileInfo of a path (lstat: a symlink is described, not followed). */
import { lstatSync, type Stats } from 'node:fs';
import type { ExecdFileInfo } from '../../api/opensandbox-execd.ts';
import { fsError } from '../errors.ts';
import type { UserDb } from '../users.ts';

function kind(st: Stats): ExecdFileInfo['type'] {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  return st.isFile() ? 'file' : 'other';
}

/** 0o755 → 755: execd writes permission bits as octal digits in a decimal number. */
export function modeDigits(mode: number): number {
  return Number((mode & 0o7777).toString(8));
}

/** 755 → 0o755; NaN when a digit is not octal. */
export function modeBits(digits: number): number {
  return /^[0-7]+$/.test(String(digits)) ? parseInt(String(digits), 8) : NaN;
}

export function fileInfo(path: string, users: UserDb): ExecdFileInfo {
  let st: Stats;
  try { st = lstatSync(path); } catch (err) { throw fsError(err, path); }
  return {
    path,
    type: kind(st),
    size: st.size,
    modified_at: st.mtime.toISOString(),
    created_at: (st.birthtimeMs > 0 ? st.birthtime : st.ctime).toISOString(),
    owner: users.userName(st.uid),
    group: users.groupName(st.gid),
    mode: modeDigits(st.mode),
  };
}
