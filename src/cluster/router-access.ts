/**
 * How the server reaches a sandbox pod: always through the sandbox router (src/k8s/router), never
 * by dialling a pod IP itself, so one NetworkPolicy (router → sandboxes) admits every path. The
 * router picks the pod by the X-Sandbox-* headers and adds the guest's access token on the envd
 * port; the server proves it may reach that one sandbox with the router's credential: a scoped
 * token minted per sandbox (src/k8s/router/auth.ts), the shared token, or nothing (allow-all).
 */
import { mintScopedToken, ROUTER_CREDENTIAL_HEADER, type AuthMode } from '../k8s/router/auth.ts';

export interface RouterAccess {
  /** Base URL of the router, e.g. http://sandbox-router-svc.agent-sandbox-system:8080 */
  url: string;
  /** The router's authorisation mode and its secret (a scoped-token key mints per-sandbox tokens). */
  auth: AuthMode;
}

/** A scoped token lives this long; it is re-minted when less than REMINT_BEFORE_S is left. */
const TOKEN_TTL_S = 3600;
const REMINT_BEFORE_S = 300;

export class RouterRoutes {
  private readonly tokens = new Map<string, { token: string; exp: number }>();

  constructor(private readonly access: RouterAccess, private readonly namespace: string, private readonly nowS: () => number) {}

  get url(): string {
    return this.access.url;
  }

  /** The headers that send a request through the router to `port` of Sandbox `sandboxName`. */
  headers(sandboxName: string, port: number): Record<string, string> {
    const h: Record<string, string> = { 'x-sandbox-id': sandboxName, 'x-sandbox-namespace': this.namespace, 'x-sandbox-port': String(port) };
    const bearer = this.bearer(sandboxName);
    // Not in Authorization: that header is the client's, for the guest (E2B's Basic user).
    if (bearer) h[ROUTER_CREDENTIAL_HEADER] = `Bearer ${bearer}`;
    return h;
  }

  private bearer(sandboxName: string): string | undefined {
    const auth = this.access.auth;
    if (auth.mode === 'allow-all') return undefined;
    if (auth.mode === 'token') return auth.token;
    const now = this.nowS();
    const kept = this.tokens.get(sandboxName);
    if (kept && kept.exp - now > REMINT_BEFORE_S) return kept.token;
    const exp = now + TOKEN_TTL_S;
    const token = mintScopedToken(auth.key, this.namespace, sandboxName, exp);
    this.tokens.set(sandboxName, { token, exp });
    return token;
  }

  /** Forgets a deleted sandbox's token. */
  forget(sandboxName: string): void {
    this.tokens.delete(sandboxName);
  }
}
