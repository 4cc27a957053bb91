/**
 * mkdir -p, one directory at a time. Node's `mkdir(…, { recursive: true })` never returns where
 * mkdir answers ENOENT although the parent exists, as it does for any new path under /proc:
 * libuv makes the parent, gets EEXIST and tries the child again, for ever. A tenant's
 * `MakeDir /proc/x` (or an upload there) blocked the guest's event loop that way.
 */
import { mkdirSync } from 'node:fs';
import { missingAncestors } from './chown.ts';

/** Creates `path` and its missing parents; returns the directories this call made, outermost first. */
export function makeDirs(path: string): string[] {
  const made: string[] = [];
  for (const dir of missingAncestors(path)) {
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (err) {
      // Made meanwhile by someone else: theirs, so not ours to chown.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return made;
}
