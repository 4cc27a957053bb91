/**
 * E2B compatibility shims: everything that exists only for old E2B SDKs, in one place (docs/architecture.md, rule “legacy in quarantine”,
 * after envd's `services/legacy/`). Each shim says which SDK versions need it and when it can go;
 * the rest of the façade speaks the current protocol only.
 *
 * 1. Traffic routed by guest token (JS SDK 2.7–2.14.0, E2B#1158): envd's `/files` and `/health`
 *    reach the single sandbox address without the `E2b-Sandbox-Id`/`E2b-Sandbox-Port` headers;
 *    the sandbox is the one whose guest token the request carries. Remove when JS SDKs before
 *    2.14.1 are no longer supported (then `GuestTokenIndex` in src/server goes too).
 * 2. Guest traffic by host name (SDKs 2.0–2.6, before `E2B_SANDBOX_URL`): `49983-<id>.<domain>`
 *    is E2B's when it carries that sandbox's guest token; without it the native proxy keeps the
 *    guest port closed. Remove with host-routed E2B support (docs/e2b.md "Host routing and TLS").
 * 3. Connect by `/timeout` then `/resume` (SDK 2.0–2.5): newer SDKs call `/connect`. Remove the
 *    two routes (src/api/e2b.ts `setTimeoutLegacy`, `resumeLegacy`) with SDK 2.5 support.
 */
import type { IncomingMessage } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { V1_DEFAULT_TIMEOUT_S, type E2bApi } from '../../api/e2b.ts';
import { GUEST_PORT, type SandboxBackend } from '../../server/backend.ts';
import type { PortRoute } from '../port-route.ts';
import type { ControlHandlers } from './control.ts';
import { sandboxObject } from './views.ts';

/** Guest token → the sandbox it belongs to (src/server/guest-token-index.ts); shims 1 and 2. */
export type GuestTokenLookup = (token: string) => string | undefined;

export interface TrafficRoute { id: string; port: number; path: string }

/** envd REST routes old JS SDKs send without routing headers. */
const HEADERLESS_ROUTES = new Set(['/files', '/health']);

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Shim 1: the guest route of a request that names no sandbox, or undefined when its path is not
 * one old SDKs send that way. `path` has the `/e2b/sandbox` prefix removed (query included).
 */
export function headerlessRoute(req: IncomingMessage, path: string, byToken: GuestTokenLookup): TrafficRoute | undefined {
  if (!HEADERLESS_ROUTES.has(path.split('?')[0]!)) return undefined;
  const token = header(req, 'x-access-token');
  const found = token ? byToken(token) : undefined;
  if (!found) throw new AgentboxError('invalid_argument', 'missing header E2b-Sandbox-Id (and no X-Access-Token of a known sandbox): upgrade the E2B SDK to 2.14.1 or later');
  return { id: found, port: GUEST_PORT, path };
}

/** Shim 2: host-routed guest traffic that carries its sandbox's token, or undefined. */
export function hostRoutedGuestRoute(req: IncomingMessage, host: PortRoute | undefined, byToken: GuestTokenLookup): TrafficRoute | undefined {
  const token = req.headers['x-access-token'];
  if (!host?.viaHost || host.port !== GUEST_PORT || typeof token !== 'string' || byToken(token) !== host.id) return undefined;
  return { id: host.id, port: host.port, path: req.url ?? '/' };
}

/** Shim 3: the SDK 2.0–2.5 connect sequence. */
export function legacyControl(backend: SandboxBackend): Pick<ControlHandlers<E2bApi>, 'setTimeoutLegacy' | 'resumeLegacy'> {
  const s = backend.sandboxes;
  return {
    async setTimeoutLegacy({ principal, params: { id }, body }) {
      // 404 on a paused sandbox makes these SDKs call /resume next.
      if (s.get(principal, id).state === 'paused') throw new AgentboxError('not_found', `sandbox '${id}' is paused; resume it (connect) first`);
      await s.setTimeout(principal, id, body.timeout);
    },
    async resumeLegacy({ principal, params: { id }, body }) {
      // `autoPause` in the body is ignored on purpose: the policy chosen at create survives a
      // resume (E2B#875).
      if (s.get(principal, id).state !== 'paused') throw new AgentboxError('conflict', `sandbox '${id}' is already running`);
      const { detail } = await s.connect(principal, id, body.timeout ?? V1_DEFAULT_TIMEOUT_S);
      return { body: sandboxObject(detail, s.trafficToken(principal, detail.id)) };
    },
  };
}
