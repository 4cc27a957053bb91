/** The OS user an RPC runs as, from its `Authorization: Basic` header (docs/e2b.md, the guest protocol). */
import type { HandlerContext } from '@connectrpc/connect';
import { basicAuthUser, resolveUser } from './auth.ts';
import type { GuestContext } from './context.ts';
import type { OsUser } from './users.ts';
import { resolveUserPath } from './paths.ts';

export function requestUser(g: GuestContext, ctx: HandlerContext): OsUser {
  return resolveUser(g, basicAuthUser(ctx.requestHeader.get('authorization')));
}

/** Resolves a request path for `user`: `~` → home, relative → default workdir or home. */
export function userPath(g: GuestContext, user: OsUser, path: string): string {
  return resolveUserPath(path, user.home, g.state.defaultWorkdir ?? user.home);
}
