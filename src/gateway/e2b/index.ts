/**
 * The E2B façade (issue 4): E2B's control API at `/e2b` (and on `api.<domain>`), sandbox traffic at
 * `/e2b/sandbox` (and on `49983-<id>.<domain>` for the guest port). Compatibility code is kept
 * here (STYLE #11); it translates onto SandboxService and the gateway's PortProxy only.
 *
 * Sandbox traffic carries no API key, as on E2B: the guest checks the sandbox's own
 * X-Access-Token (always minted); other ports are public unless the sandbox was created with
 * `allowPublicTraffic: false` (then `e2b-traffic-access-token` is needed), and the code
 * interpreter's /execute needs X-Access-Token (traffic-rules.ts, service.ts admitAnonymous).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentboxError, asAgentboxError } from '../../api/errors.ts';
import type { AuthStore } from '../../server/auth-store.ts';
import { GUEST_PORT } from '../../api/envd-protocol.ts';
import type { ProxyTarget, SandboxService } from '../../server/service.ts';
import { authenticate } from '../auth.ts';
import { portRoute as nativePortRoute, trafficCredentials, type PortProxy } from '../proxy.ts';
import { controlRoutes, handleControl } from './control.ts';
import { e2bErrorBody, sandboxGoneBody, sendE2bError, sendSandboxGone } from './errors.ts';
import { needsAccessToken } from '../traffic-rules.ts';
import { isApiHost, refuseInternal, trafficRoute, type TrafficRoute } from './traffic.ts';

export interface E2bDeps {
  service: SandboxService;
  auth: AuthStore;
  proxy: PortProxy;
  now: () => number;
  timersChanged: () => void;
  /** The wildcard domain for `api.<domain>` and `<port>-<id>.<domain>`; none disables host routing. */
  domain?: string;
}

export interface E2bFacade {
  /** Serves the request and returns true when it is E2B traffic. */
  http(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean>;
}

const PREFIX = '/e2b';
const SANDBOX_PREFIX = '/e2b/sandbox';

const under = (url: string, prefix: string): string | undefined => {
  if (url === prefix) return '/';
  if (url.startsWith(`${prefix}/`)) return url.slice(prefix.length);
  if (url.startsWith(`${prefix}?`)) return `/${url.slice(prefix.length)}`;
  return undefined;
};

/** Errors that mean "this sandbox cannot be reached now", which E2B's proxy answers with 502. */
const GONE = new Set(['not_found', 'conflict', 'unavailable']);

export function createE2bFacade(d: E2bDeps): E2bFacade {
  const control = controlRoutes({ service: d.service, now: d.now, timersChanged: d.timersChanged, checkpointed: (id) => d.proxy.forget(id) });
  const byToken = (t: string) => d.service.sandboxByGuestToken(t);

  /** The traffic route of a request, or undefined when the request is not E2B sandbox traffic. */
  function route(req: IncomingMessage): TrafficRoute | undefined {
    const url = req.url ?? '/';
    const sandboxPath = under(url, SANDBOX_PREFIX);
    if (sandboxPath !== undefined) return trafficRoute(req, sandboxPath, byToken);
    const host = nativePortRoute(url, req.headers.host, d.domain);
    // Host-routed guest traffic is E2B's when it carries that sandbox's token; everything else
    // host-routed stays with the native proxy (which keeps the guest port closed).
    const token = req.headers['x-access-token'];
    if (host?.viaHost && host.port === GUEST_PORT && typeof token === 'string' && byToken(token) === host.id) {
      const r = { id: host.id, port: host.port, path: url };
      refuseInternal(r);
      return r;
    }
    return undefined;
  }

  async function target(req: IncomingMessage, r: TrafficRoute): Promise<ProxyTarget> {
    return d.service.proxyTarget(null, r.id, r.port, { guestByToken: true, credentials: trafficCredentials(req.headers), needsAccessToken: needsAccessToken(r.port, r.path) });
  }

  const portRoute = (r: TrafficRoute) => ({ ...r, viaHost: false });

  return {
    async http(req, res) {
      const url = req.url ?? '/';
      let r: TrafficRoute | undefined;
      try {
        r = route(req);
      } catch (err) {
        sendE2bError(res, err);
        return true;
      }
      if (r) {
        try {
          await d.proxy.forward(req, res, portRoute(r), await target(req, r));
        } catch (err) {
          const e = asAgentboxError(err);
          if (GONE.has(e.code)) sendSandboxGone(res, r.id, e.message);
          else sendE2bError(res, e);
        }
        return true;
      }
      const controlPath = isApiHost(req.headers.host, d.domain) ? url : under(url, PREFIX);
      if (controlPath === undefined) return false;
      try {
        const served = await handleControl(control, req, res, controlPath, () => authenticate(req, d.auth));
        if (!served) throw new AgentboxError('not_found', `no E2B route ${req.method} ${controlPath.split('?')[0]}`);
      } catch (err) {
        sendE2bError(res, err);
      }
      return true;
    },

    async upgrade(req, socket, head) {
      let r: TrafficRoute | undefined;
      try {
        r = route(req);
        if (!r) return false;
        d.proxy.splice(req, socket, head, portRoute(r), await target(req, r));
      } catch (err) {
        const e = asAgentboxError(err);
        const body = r && GONE.has(e.code) ? sandboxGoneBody(r.id, e.message) : e2bErrorBody(e);
        const text = JSON.stringify(body);
        socket.end(`HTTP/1.1 ${body.code} E2B\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      }
      return true;
    },
  };
}
