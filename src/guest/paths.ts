/** Path resolution shared by every RPC and /files: `~` expansion, relative paths against home. */
import { isAbsolute, resolve } from 'node:path';

/**
 * Resolves `path` for a user: `~` and `~/x` expand to `home`; other relative paths resolve
 * against `base` (the default workdir when configured, else the user's home).
 */
export function resolveUserPath(path: string, home: string, base: string = home): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  if (isAbsolute(path)) return resolve(path);
  return resolve(base, path);
}
