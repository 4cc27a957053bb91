/**
 * The E2B façade (issue 4): E2B's control API at `/e2b` (and on `api.<domain>`), sandbox traffic at
 * `/e2b/sandbox` (and on `49983-<id>.<domain>` for the guest port), signed file URLs at `/files`
 * (signed-files.ts). It translates onto the backend (src/server/backend.ts) and the gateway's
 * PortProxy only; shims for old SDKs are in legacy.ts (docs/architecture.md, rule “legacy in
 * quarantine”). E2B's template build API (`Template.build`) is template-build/, its upload URLs
 * answered here before authentication (the one-time token in the URL is their credential, as
 * E2B's presigned URLs are).
 *
 * Sandbox traffic carries no API key, as on E2B: the guest checks the sandbox's own
 * X-Access-Token (always minted); other ports are public unless the sandbox was created with
 * `allowPublicTraffic: false` (then `e2b-traffic-access-token` is needed), and the code
 * interpreter's /execute needs X-Access-Token (traffic-rules.ts, service.ts admitAnonymous).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentboxError, asAgentboxError } from '../../api/errors.ts';
import { GUEST_PORT, type ProxyTarget, type SandboxBackend } from '../../server/backend.ts';
import { authenticate } from '../auth.ts';
import { portRoute } from '../port-route.ts';
import { trafficCredentials, type PortProxy } from '../proxy.ts';
import { endUpgrade } from '../respond.ts';
import { needsAccessToken } from '../traffic-rules.ts';
import { controlApi, handleControl } from './control.ts';
import { e2bErrorBody, sandboxGoneBody, sendE2bError, sendSandboxGone } from './errors.ts';
import { hostRoutedGuestRoute, type GuestTokenLookup } from './legacy.ts';
import { sandboxOfSignedFile, signedFileRequest, type GuestTokenSearch } from './signed-files.ts';
import { isApiHost, refuseInternal, trafficRoute, type TrafficRoute } from './traffic.ts';
import { BuildRecords } from './template-build/records.ts';
import { templateBuildApi } from './template-build/routes.ts';
import { handleUpload } from './template-build/upload.ts';
import { handleVolumes } from './volumes.ts';

export interface E2bDeps {
  backend: SandboxBackend;
  proxy: PortProxy;
  now: () => number;
  /** For old SDKs that route sandbox traffic by the guest's token (legacy.ts). */
  sandboxByGuestToken: GuestTokenLookup;
  /** For signed file URLs, which name their sandbox only by a digest of its guest token (signed-files.ts). */
  sandboxWhereGuestToken: GuestTokenSearch;
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
const GONE = new Set(['not_found', 'sandbox_ended', 'conflict', 'unavailable']);

export function createE2bFacade(d: E2bDeps): E2bFacade {
  const control = controlApi({ backend: d.backend, now: d.now });
  const buildRecords = new BuildRecords(d.now);
  const templateBuilds = templateBuildApi({ backend: d.backend, records: buildRecords });
  const byToken = d.sandboxByGuestToken;

  /** The traffic route of a request, or undefined when the request is not E2B sandbox traffic. */
  function route(req: IncomingMessage): TrafficRoute | undefined {
    const url = req.url ?? '/';
    const sandboxPath = under(url, SANDBOX_PREFIX);
    if (sandboxPath !== undefined) return trafficRoute(req, sandboxPath, byToken);
    const host = portRoute(url, req.headers.host, d.domain);
    const signed = signedFileRequest(req.method, url);
    // A signed file URL: at the root (E2B_SANDBOX_URL) or on the guest's host name (host routing).
    if (signed && (!host || (host.viaHost && host.port === GUEST_PORT))) {
      const search: GuestTokenSearch = host ? (matches) => (d.sandboxWhereGuestToken(matches) === host.id ? host.id : undefined) : d.sandboxWhereGuestToken;
      return { id: sandboxOfSignedFile(signed, search, d.now()), port: GUEST_PORT, path: url };
    }
    // Everything else host-routed stays with the native proxy (which keeps the guest port closed).
    const r = hostRoutedGuestRoute(req, host, byToken);
    if (r) refuseInternal(r);
    return r;
  }

  async function target(req: IncomingMessage, r: TrafficRoute): Promise<ProxyTarget> {
    return d.backend.sandboxes.proxyTarget(null, r.id, r.port, { guestByToken: true, credentials: trafficCredentials(req.headers), needsAccessToken: needsAccessToken(r.port, r.path) });
  }

  const asPortRoute = (r: TrafficRoute) => ({ ...r, viaHost: false });

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
          await d.proxy.forward(req, res, asPortRoute(r), await target(req, r));
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
        const principal = () => authenticate(req, d.backend);
        // Template build routes first: control's `/templates/{template}` would answer their paths with "method not allowed".
        const served = await handleUpload(buildRecords, req, res, controlPath) || await handleVolumes(d.backend, req, res, controlPath, principal) || await handleControl(templateBuilds, req, res, controlPath, principal)
          || await handleControl(control, req, res, controlPath, principal);
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
        d.proxy.splice(req, socket, head, asPortRoute(r), await target(req, r));
      } catch (err) {
        const e = asAgentboxError(err);
        const body = r && GONE.has(e.code) ? sandboxGoneBody(r.id, e.message) : e2bErrorBody(e);
        endUpgrade(socket, body.code, 'E2B', body);
      }
      return true;
    },
  };
}
