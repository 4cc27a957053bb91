// Confinement of client paths to the runtime's base directory, by realpath (symlinks included).
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

const inside = (base: string, p: string) => {
  const rel = relative(base, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** Realpath of the deepest existing ancestor of `p` (p itself when it exists). */
async function realExisting(p: string): Promise<string> {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(cur);
      return rest.length ? resolve(real, ...rest.reverse()) : real;
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return p;
      rest.push(cur.slice(parent.length + (parent.endsWith('/') ? 0 : 1)));
      cur = parent;
    }
  }
}

/** Absolute path of `userPath` under `base`, or null when it escapes the base directory. */
export async function confine(base: string, userPath: string): Promise<string | null> {
  const realBase = await realpath(base);
  const target = resolve(realBase, userPath.replace(/^\/+/, ''));
  if (!inside(realBase, target)) return null;
  return inside(realBase, await realExisting(target)) ? target : null;
}
