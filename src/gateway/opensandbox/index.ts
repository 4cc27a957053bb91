/**
 * The OpenSandbox façade (issue 12): OpenSandbox's lifecycle API at `/opensandbox` and
 * `/opensandbox/v1`, and every sandbox port at `/opensandbox/sandboxes/{id}/proxy/{port}/…` (the
 * endpoint contract of docs/opensandbox.md: the SDKs reach execd on 44772 there). It translates
 * onto the backend (src/server/backend.ts) and the gateway's PortProxy only.
 *
 * Every request needs an agentbox key (`OPEN-SANDBOX-API-KEY`, as OpenSandbox's SDKs send it, or
 * the headers the rest of agentbox takes); every answer carries `X-Request-ID`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentboxError, notFound } from '../../api/errors.ts';
import { SandboxId } from '../../api/native.ts';
import { EGRESS_PORT, openSandboxApi, type OpenSandboxApi } from '../../api/opensandbox.ts';
import { routeList, type Route } from '../../api/route.ts';
import type { Principal, SandboxBackend } from '../../server/backend.ts';
import { presentedKey } from '../auth.ts';
import { handlerFor } from '../handlers.ts';
import type { PortRoute } from '../port-route.ts';
import type { PortProxy } from '../proxy.ts';
import { parseBody, parseQuery } from '../request.ts';
import { sendJson } from '../respond.ts';
import { Router } from '../router.ts';
import { serveEgress } from './egress.ts';
import { endOpenSandboxUpgrade, sendOpenSandboxError, type ConflictMeaning } from './errors.ts';
import { lifecycleHandlers, type LifecycleReply } from './lifecycle.ts';

export interface OpenSandboxDeps {
  backend: SandboxBackend;
  proxy: PortProxy;
  now: () => number;
}

export interface OpenSandboxFacade {
  /** Serves the request and returns true when it is under `/opensandbox`. */
  http(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<boolean>;
}

export const OPENSANDBOX_PREFIX = '/opensandbox';
const MAX_JSON = 1024 * 1024;
/** `/sandboxes/{id}/proxy/{port}[/rest]` under the prefix, with or without `/v1`. */
const PROXY_RE = /^\/sandboxes\/([^/]+)\/proxy\/(\d{1,5})(\/.*)?$/;

/** Which conflict a route can meet (errors.ts words each one as OpenSandbox does). */
const CONFLICTS: Partial<Record<keyof OpenSandboxApi, ConflictMeaning>> = { pause: 'not_running', resume: 'not_paused' };

/** The path under the prefix (`/v1` dropped), with its query; undefined when the request is not ours. */
function underPrefix(url: string): string | undefined {
  if (url !== OPENSANDBOX_PREFIX && !url.startsWith(`${OPENSANDBOX_PREFIX}/`) && !url.startsWith(`${OPENSANDBOX_PREFIX}?`)) return undefined;
  const rest = url.slice(OPENSANDBOX_PREFIX.length) || '/';
  return rest === '/v1' || rest.startsWith('/v1/') || rest.startsWith('/v1?') ? rest.slice(3) || '/' : rest;
}

function authenticated(req: IncomingMessage, backend: SandboxBackend): { principal: Principal; apiKey: string } {
  const apiKey = presentedKey(req);
  if (!apiKey) throw new AgentboxError('unauthenticated', 'missing API key: send "OPEN-SANDBOX-API-KEY: <agentbox key>" (OPEN_SANDBOX_API_KEY for the SDKs)', { details: { missingKey: true } });
  return { principal: backend.authenticate(apiKey), apiKey };
}

/** A sandbox port route, or undefined; the sandbox id is checked for shape (anything else cannot exist). */
function proxyRoute(path: string): PortRoute | undefined {
  const q = path.indexOf('?');
  const m = PROXY_RE.exec(q < 0 ? path : path.slice(0, q));
  if (!m) return undefined;
  if (!SandboxId.safeParse(m[1]).success) throw notFound('sandbox', m[1]!);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new AgentboxError('invalid_argument', `port ${m[2]} is out of range 1-65535`);
  return { id: m[1]!, port, path: (m[3] ?? '/') + (q < 0 ? '' : path.slice(q)), viaHost: false };
}

export function createOpenSandboxFacade(d: OpenSandboxDeps): OpenSandboxFacade {
  const router = new Router<Route>(routeList(openSandboxApi));
  const handlers = lifecycleHandlers({ backend: d.backend, now: d.now, proxyPrefix: OPENSANDBOX_PREFIX });

  async function serveRoute(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const u = new URL(path, 'http://x');
    const m = router.match(req.method ?? 'GET', u.pathname);
    if (!m) throw new AgentboxError('not_found', `no OpenSandbox route ${req.method} ${u.pathname}`);
    if ('allowed' in m) throw new AgentboxError('invalid_argument', `${req.method} is not allowed on ${u.pathname}; use ${m.allowed.join(' or ')}`);
    const { principal, apiKey } = authenticated(req, d.backend);
    if (m.params.id !== undefined && !SandboxId.safeParse(m.params.id).success) throw notFound('sandbox', m.params.id);
    const query = m.route.query ? parseQuery(m.route.query, u.searchParams) : {};
    const body = m.route.body ? await parseBody(req, m.route.body, MAX_JSON) : undefined;
    const ctx = { req, principal, apiKey, params: m.params, query, body };
    try {
      const reply = (await handlerFor<typeof ctx, Promise<LifecycleReply<unknown> | void>>(handlers, m.route.id)(ctx)) ?? {};
      if (reply.body === undefined) {
        // An explicit zero length: the SDKs' fetch client parses a body unless it is told there is none.
        res.writeHead(m.route.status, { 'Content-Length': '0' });
        res.end();
      } else sendJson(res, m.route.status, reply.body);
    } catch (err) {
      sendOpenSandboxError(res, err, CONFLICTS[m.route.id as keyof OpenSandboxApi]);
    }
  }

  return {
    async http(req, res) {
      const path = underPrefix(req.url ?? '/');
      if (path === undefined) return false;
      const incoming = req.headers['x-request-id'];
      res.setHeader('X-Request-ID', typeof incoming === 'string' && incoming ? incoming : randomUUID().replaceAll('-', ''));
      try {
        const port = proxyRoute(path);
        if (!port) await serveRoute(req, res, path);
        else if (port.port === EGRESS_PORT) await serveEgress(req, res, d.backend, authenticated(req, d.backend).principal, port.id, port.path);
        else await d.proxy.http(req, res, port, authenticated(req, d.backend).principal);
      } catch (err) {
        sendOpenSandboxError(res, err);
      }
      return true;
    },

    async upgrade(req, socket, head) {
      const path = underPrefix(req.url ?? '/');
      if (path === undefined) return false;
      try {
        const port = proxyRoute(path);
        if (!port) throw new AgentboxError('not_found', 'only sandbox ports accept upgrades');
        await d.proxy.upgrade(req, socket, head, port, authenticated(req, d.backend).principal);
      } catch (err) {
        endOpenSandboxUpgrade(socket, err);
      }
      return true;
    },
  };
}
