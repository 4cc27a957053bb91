/** Matches a method and path against route specs with `{param}` segments. */
import { AgentboxError } from '../api/errors.ts';
import type { RouteDef } from '../api/route.ts';

export interface Match<T> { route: T; params: Record<string, string> }

export class Router<T extends Pick<RouteDef, 'method' | 'path'>> {
  private readonly compiled: { route: T; re: RegExp; names: string[] }[];

  /** The routes in match order (the route fuzzer walks every one). */
  readonly routes: readonly T[];

  constructor(routes: T[]) {
    this.routes = routes;
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const src = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => { names.push(name); return '([^/]+)'; });
      return { route, re: new RegExp(`^${src}$`), names };
    });
  }

  /** The route for a path and method; `allowed` lists methods when only the path matched. */
  match(method: string, pathname: string): Match<T> | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const m = c.re.exec(pathname);
      if (!m) continue;
      if (c.route.method !== method) { allowed.push(c.route.method); continue; }
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => { params[n] = decodeParam(m[i + 1]!); });
      return { route: c.route, params };
    }
    return allowed.length ? { allowed } : undefined;
  }
}

/** A path parameter as the client meant it; a malformed %-escape is the client's error. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AgentboxError('invalid_argument', `path segment '${raw}' is not valid URL encoding (a % must start an escape such as %2F)`);
  }
}
