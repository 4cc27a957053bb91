/** Paths of execd requests: execd has no per-request user, so they resolve as the sandbox's default user's. */
import { resolveUser } from '../auth.ts';
import type { GuestContext } from '../context.ts';
import { userPath } from '../request-user.ts';

export function execdPath(g: GuestContext, path: string): string {
  return userPath(g, resolveUser(g, undefined), path);
}
