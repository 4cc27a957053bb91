/**
 * Which sandbox a guest access token belongs to, in O(1): E2B JS SDK 2.7–2.14.0 send envd's
 * `/files` and `/health` without routing headers, so anonymous traffic is routed by its token.
 * Tokens are compared as sha256 digests (no timing leak of how much of a guessed token matches),
 * and a lookup never hashes every sandbox's token again: the index is rebuilt only after the
 * engine made or re-keyed a sandbox, which `observe` sees by wrapping the engine.
 */
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/types.ts';

/** Engine calls after which a sandbox may hold a token the index has not seen. */
const ADDS_TOKENS = new Set<PropertyKey>(['create', 'run', 'restoreSnapshot', 'fork']);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class GuestTokenIndex {
  private byDigest = new Map<string, string>();
  private stale = true;

  constructor(private readonly engine: Engine) {}

  /** The engine to hand to everything that makes sandboxes (service, pools), so the index sees it. */
  observe(): Engine {
    return new Proxy(this.engine, {
      get: (target, key) => {
        const value = Reflect.get(target, key, target) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (!ADDS_TOKENS.has(key)) return fn.bind(target);
        return async (...args: unknown[]) => {
          try {
            return await fn.apply(target, args);
          } finally {
            this.stale = true;
          }
        };
      },
    });
  }

  /** The sandbox whose guest token is `token`, if any. */
  lookup(token: string): string | undefined {
    if (this.stale) this.rebuild();
    const want = sha256(token);
    const id = this.byDigest.get(want);
    if (id === undefined) return undefined;
    // Removed since the last rebuild: forget it (a removed sandbox never comes back by id).
    let current: string;
    try {
      current = this.engine.get(id).guest.accessToken;
    } catch {
      this.byDigest.delete(want);
      return undefined;
    }
    return sha256(current) === want ? id : undefined;
  }

  /**
   * The sandbox whose guest token satisfies `matches`: a signed file URL names its sandbox only
   * through a digest of the token (gateway/e2b/signed-files.ts), so each token is tried.
   */
  find(matches: (token: string) => boolean): string | undefined {
    return this.engine.list().find((info) => matches(info.guest.accessToken))?.id;
  }

  private rebuild(): void {
    this.stale = false;
    const next = new Map<string, string>();
    for (const info of this.engine.list()) next.set(sha256(info.guest.accessToken), info.id);
    this.byDigest = next;
  }
}
