/** Ownership of what the guest creates on a user's behalf: the user, not the root guest. */
import { chownSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OsUser } from '../users.ts';

/** The ancestors of `path` (nearest last) that do not exist yet, so they can be chowned once made. */
export function missingAncestors(path: string): string[] {
  const out: string[] = [];
  for (let p = path; !existsSync(p); p = dirname(p)) {
    out.unshift(p);
    if (dirname(p) === p) break;
  }
  return out;
}

export function chownAll(paths: string[], user: OsUser): void {
  for (const p of paths) chownSync(p, user.uid, user.gid);
}
