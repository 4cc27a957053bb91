/**
 * Traffic to ports inside sandboxes, HTTP and WebSocket, never through published host ports:
 * - by path: `/v1/sandboxes/{id}/ports/{port}/<rest>` with an API key (the guest daemon's port
 *   49983 too: the server adds the guest's access token, so the SDK can speak envd through it);
 * - by host: `<port>-<id>.<domain>` (anonymous, as on E2B; the guest port is refused there, and
 *   the service admits a request only with the tokens the port needs: service.ts admitAnonymous).
 * Agentbox API keys never reach the sandbox, and a connection idle in both directions for
 * `idleTimeoutMs` is cut, so parked sockets cannot pile up on the server.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AgentboxError } from '../api/errors.ts';
import { requestHead } from '../api/http-head.ts';
import { GUEST_PORT, type Principal, type ProxyTarget, type SandboxOps, type TrafficCredentials } from '../server/backend.ts';
import { KeyedPool } from '../server/keyed-pool.ts';
import { carriesApiKey } from './auth.ts';
import { needsAccessToken, refuseInternal } from './traffic-rules.ts';
import { DEFAULT_LIMITS, holdConnection } from './limits.ts';
import type { PortRoute } from './port-route.ts';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'host']);

function forwardHeaders(h: IncomingHttpHeaders, target: ProxyTarget, r: PortRoute, keepUpgrade: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || (HOP.has(k) && !(keepUpgrade && (k === 'upgrade' || k === 'connection')))) continue;
    // An agentbox key is for agentbox, never for the code inside the sandbox, however the request
    // was routed: X-API-Key is the SDKs' key header, always dropped; Authorization is dropped when
    // it holds a key. Other credentials pass: the SDK selects the guest's user with Basic auth,
    // and an app in the sandbox may use its own bearer tokens. OPEN-SANDBOX-API-KEY is the
    // OpenSandbox SDKs' key header (docs/opensandbox.md), always dropped too.
    if (k === 'x-api-key' || k === 'open-sandbox-api-key' || (k === 'authorization' && carriesApiKey(v))) continue;
    out[k] = v;
  }
  out.host = new URL(target.url).host;
  if (target.accessToken) out['x-access-token'] = target.accessToken;
  for (const [k, v] of Object.entries(target.headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

const firstHeader = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The E2B tokens an anonymous request presents (service.ts admitAnonymous checks them). */
export function trafficCredentials(h: IncomingHttpHeaders): TrafficCredentials {
  const c: TrafficCredentials = {};
  const access = firstHeader(h, 'x-access-token');
  const traffic = firstHeader(h, 'e2b-traffic-access-token');
  if (access !== undefined) c.accessToken = access;
  if (traffic !== undefined) c.trafficToken = traffic;
  return c;
}

export class PortProxy {
  /** Keep-alive pools per sandbox: addresses are reused after a kill (see keyed-pool.ts). */
  private readonly agents = new KeyedPool(512, () => new Agent({ keepAlive: true, maxSockets: 64 }), (a) => a.destroy());

  constructor(private readonly sandboxes: Pick<SandboxOps, 'proxyTarget'>, private readonly idleTimeoutMs = DEFAULT_LIMITS.proxyIdleTimeoutMs) {}

  private target(req: IncomingMessage, r: PortRoute, principal: Principal | null): Promise<ProxyTarget> {
    refuseInternal(r.port, GUEST_PORT, r.path);
    return this.sandboxes.proxyTarget(principal, r.id, r.port, { credentials: trafficCredentials(req.headers), needsAccessToken: needsAccessToken(r.port, r.path) });
  }

  async http(req: IncomingMessage, res: ServerResponse, r: PortRoute, principal: Principal | null): Promise<void> {
    return this.forward(req, res, r, await this.target(req, r, principal));
  }

  /** Sends one request to a resolved target (façades that resolve targets themselves call this). */
  async forward(req: IncomingMessage, res: ServerResponse, r: PortRoute, target: ProxyTarget): Promise<void> {
    const u = new URL(target.url);
    // Both legs: the client's socket and the one to the sandbox are cut after this much silence.
    holdConnection(req, this.idleTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      const up = httpRequest({
        host: u.hostname, port: u.port, method: req.method, path: r.path, agent: this.agents.get(r.id),
        headers: forwardHeaders(req.headers, target, r, false),
      }, (upRes) => {
        const headers = { ...upRes.headers };
        delete headers.connection;
        delete headers['keep-alive'];
        res.writeHead(upRes.statusCode ?? 502, headers);
        res.flushHeaders();
        upRes.pipe(res);
        upRes.on('end', resolve);
        upRes.on('error', reject);
      });
      up.setTimeout(this.idleTimeoutMs, () => up.destroy(new AgentboxError('deadline_exceeded', `port ${r.port} of sandbox '${r.id}' sent nothing for ${this.idleTimeoutMs} ms`)));
      up.on('error', (err) => reject(new AgentboxError('unavailable', `port ${r.port} of sandbox '${r.id}' did not answer: ${err.message}`)));
      res.on('close', () => { if (!res.writableFinished) up.destroy(); resolve(); });
      req.pipe(up);
    });
  }

  /** WebSocket (any Upgrade): replays the request head to the target, then splices the sockets. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, r: PortRoute, principal: Principal | null): Promise<void> {
    this.splice(req, socket, head, r, await this.target(req, r, principal));
  }

  splice(req: IncomingMessage, socket: Duplex, head: Buffer, r: PortRoute, target: ProxyTarget): void {
    const u = new URL(target.url);
    const upstream = connect({ host: u.hostname, port: Number(u.port) });
    const cut = () => { socket.destroy(); upstream.destroy(); };
    upstream.on('error', cut);
    socket.on('error', cut);
    // A splice silent in both directions for the idle timeout is closed (either side's timer
    // restarts with every byte that side moves).
    upstream.setTimeout(this.idleTimeoutMs, cut);
    if ('setTimeout' in socket && typeof socket.setTimeout === 'function') (socket as Socket).setTimeout(this.idleTimeoutMs, cut);
    upstream.once('connect', () => {
      upstream.write(requestHead(req.method, r.path, forwardHeaders(req.headers, target, r, true)));
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
  }

  /**
   * Drops the kept-alive connections to a sandbox. The service calls it when the sandbox was
   * paused, resumed or checkpointed (ServiceEvents.checkpointed): a checkpoint/restore leaves the
   * host side of old connections half-open, and the next request on one fails with ECONNRESET.
   */
  forget(id: string): void {
    this.agents.forget(id);
  }

  close(): void {
    this.agents.close();
  }
}
