/**
 * The HTTP server: `/healthz`, `/metrics`, `/v1/openapi.json`, the web console (`/ui`), sandbox
 * port traffic and the native API. Each request is: route → authenticate → validate (route schemas) → handler →
 * JSON or error body (errors.ts).
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { AgentboxError, asAgentboxError } from '../api/errors.ts';
import { nativeRoutes } from '../api/native-routes.ts';
import { buildOpenApi } from '../api/openapi.ts';
import type { Principal, SandboxBackend } from '../server/backend.ts';
import { authenticate, requireAdmin } from './auth.ts';
import { limitedBody } from './body.ts';
import { sendError, sendUpgradeError } from './errors.ts';
import { handlerFor, RESPONDED } from './handlers.ts';
import type { ConsoleFiles } from './console.ts';
import type { Metrics } from './metrics.ts';
import type { E2bFacade } from './e2b/index.ts';
import type { OpenSandboxFacade } from './opensandbox/index.ts';
import { applyServerLimits, DEFAULT_LIMITS, holdConnection, type ServerLimits } from './limits.ts';
import type { NativeHandlers } from './native.ts';
import { portRoute, type PortRoute } from './port-route.ts';
import type { PortProxy } from './proxy.ts';
import { parseBody, parseQuery } from './request.ts';
import { sendJson } from './respond.ts';
import { Router } from './router.ts';

export interface GatewayDeps {
  backend: Pick<SandboxBackend, 'authenticate'>;
  handlers: NativeHandlers;
  proxy: PortProxy;
  metrics: Metrics;
  /** Base domain for host routing `<port>-<id>.<domain>`; none disables it. */
  domain?: string;
  version: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  maxJsonBytes?: number;
  maxFileBytes?: number;
  /** The E2B façade (`/e2b`, `/e2b/sandbox`, `api.<domain>`); asked first about every request. */
  e2b?: E2bFacade;
  /** The OpenSandbox façade (`/opensandbox`), asked after the E2B one. */
  openSandbox?: OpenSandboxFacade;
  /** PEM certificate and key: serve HTTPS (needed by E2B SDKs before 2.7 for host routing). */
  tls?: { cert: string; key: string };
  /** Timeouts and the connection cap (limits.ts); unset fields keep their defaults. */
  limits?: Partial<ServerLimits>;
  /** The web console's static files at `/ui` (console.ts). */
  console?: ConsoleFiles;
}

export function createGateway(d: GatewayDeps): Server {
  const router = new Router(nativeRoutes);
  const openapi = JSON.stringify(buildOpenApi(nativeRoutes, { title: 'agentbox native API', version: d.version }));
  const maxJson = d.maxJsonBytes ?? 16 * 1024 * 1024;
  // Uploads stream through to the sandbox; the cap only bounds what one request may write.
  const maxFile = d.maxFileBytes ?? 16 * 1024 ** 3;
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...d.limits };

  const principalFor = (req: IncomingMessage, r: PortRoute): Principal | null => (r.viaHost ? null : authenticate(req, d.backend));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (d.e2b && (await d.e2b.http(req, res))) return;
    if (d.openSandbox && (await d.openSandbox.http(req, res))) return;
    const url = req.url ?? '/';
    const ports = portRoute(url, req.headers.host, d.domain);
    if (ports) return d.proxy.http(req, res, ports, principalFor(req, ports));
    const u = new URL(url, 'http://x');
    if (req.method === 'GET' && u.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', version: d.version });
    if (d.console?.http(req, res, u.pathname)) return;
    if (req.method === 'GET' && u.pathname === '/metrics') {
      // Pool gauges name tenants and their (possibly private) templates: operators only.
      requireAdmin(authenticate(req, d.backend));
      const text = await d.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': d.metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (req.method === 'GET' && u.pathname === '/v1/openapi.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(openapi);
      return;
    }
    const m = router.match(req.method ?? 'GET', u.pathname);
    if (!m) throw new AgentboxError('not_found', `no route ${req.method} ${u.pathname}: see /v1/openapi.json`);
    if ('allowed' in m) {
      res.setHeader('Allow', m.allowed.join(', '));
      throw new AgentboxError('invalid_argument', `${req.method} is not allowed on ${u.pathname}; use ${m.allowed.join(' or ')}`);
    }
    const principal = authenticate(req, d.backend);
    if (m.route.admin && !principal.admin) throw new AgentboxError('permission_denied', `${m.route.method} ${m.route.path} needs an admin key`);
    const query = m.route.query ? parseQuery(m.route.query, u.searchParams) : {};
    let body: unknown;
    let raw: AsyncIterable<Uint8Array> | undefined;
    // An upload must keep moving: the idle timeout applies again while its body streams in.
    if (m.route.rawBody) {
      holdConnection(req, limits.idleTimeoutMs);
      raw = liftedWhenRead(req, limitedBody(req, maxFile));
    }
    else if (m.route.body) body = await parseBody(req, m.route.body, maxJson, limits.jsonBodyTimeoutMs);
    const ctx = { req, res, principal, params: m.params, query, body, ...(raw ? { raw } : {}) };
    const result = await handlerFor<typeof ctx>(d.handlers, m.route.id)(ctx);
    if (result === RESPONDED) return;
    if (result === undefined) {
      res.writeHead(m.route.status === 200 ? 204 : m.route.status);
      res.end();
      return;
    }
    sendJson(res, m.route.status, result);
  }

  const listener: RequestListener = (req, res) => {
    // The idle timeout is for sockets nobody is using; while the server works on a request
    // (a cold create, a pause, a quiet exec) the connection is in use however long it takes.
    holdConnection(req);
    handle(req, res).catch((err: unknown) => {
      const e = asAgentboxError(err);
      if (e.code === 'internal') d.log('request failed', { method: req.method, url: req.url, error: e.message, stack: (e.cause as Error | undefined)?.stack ?? e.stack });
      sendError(res, e);
    });
  };
  const server: Server = d.tls ? createTlsServer({ cert: d.tls.cert, key: d.tls.key }, listener) : createServer(listener);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      if (d.e2b && (await d.e2b.upgrade(req, socket, head))) return;
      if (d.openSandbox && (await d.openSandbox.upgrade(req, socket, head))) return;
      const r = portRoute(req.url ?? '/', req.headers.host, d.domain);
      if (!r) throw new AgentboxError('not_found', 'only sandbox ports accept upgrades');
      await d.proxy.upgrade(req, socket, head, r, principalFor(req, r));
    })().catch((err: unknown) => sendUpgradeError(socket, err));
  });
  applyServerLimits(server, limits);
  return server;
}

/** The body, then the idle timeout lifted again: what follows is the server's work. */
async function* liftedWhenRead(req: IncomingMessage, body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* body;
  holdConnection(req);
}
