/** Applying execd's `{mode, owner, group}` to a path (POST /files/permissions, uploads, POST /directories). */
import { chmodSync, chownSync, lstatSync } from 'node:fs';
import { AgentboxError } from '../../api/errors.ts';
import { fsError } from '../errors.ts';
import type { UserDb } from '../users.ts';
import { modeBits } from './file-info.ts';

export interface Permission {
  mode?: number;
  owner?: string;
  group?: string;
}

export function applyPermission(path: string, p: Permission, users: UserDb): void {
  const bits = p.mode === undefined ? undefined : modeBits(p.mode);
  if (Number.isNaN(bits)) throw new AgentboxError('invalid_argument', `mode ${p.mode} of '${path}' is not octal digits (e.g. 644)`);
  const uid = p.owner === undefined ? -1 : users.byName(p.owner)?.uid;
  if (uid === undefined) throw new AgentboxError('invalid_argument', `owner '${p.owner}' is not a user of this sandbox`);
  const gid = p.group === undefined ? -1 : users.groupId(p.group);
  if (gid === undefined) throw new AgentboxError('invalid_argument', `group '${p.group}' is not a group of this sandbox`);
  try {
    lstatSync(path);
    if (bits !== undefined) chmodSync(path, bits);
    if (uid !== -1 || gid !== -1) chownSync(path, uid, gid);
  } catch (err) {
    throw fsError(err, path);
  }
}
