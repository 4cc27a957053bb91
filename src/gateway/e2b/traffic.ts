/**
 * Which sandbox port an E2B sandbox request is for (E2B's published spec, github.com/e2b-dev/E2B `spec/`): the
 * `E2b-Sandbox-Id`/`E2b-Sandbox-Port` headers on the single sandbox address, else, for envd's REST
 * routes that JS SDK 2.7–2.14.0 send without them (E2B#1158), the sandbox whose guest token the
 * request carries. Envd's internal routes are never reachable from outside.
 */
import type { IncomingMessage } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { GUEST_PORT } from '../../api/envd-protocol.ts';
import { refuseInternal as refuseInternalRoute } from '../traffic-rules.ts';

export interface TrafficRoute { id: string; port: number; path: string }

/** envd REST routes old JS SDKs send without routing headers. */
const HEADERLESS_ROUTES = new Set(['/files', '/health']);

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export function parsePort(s: string): number {
  const port = /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new AgentboxError('invalid_argument', `port '${s}' is not a port number 1-65535`);
  return port;
}

/** `path` is the request path with the `/e2b/sandbox` prefix removed (query included). */
export function trafficRoute(req: IncomingMessage, path: string, byToken: (token: string) => string | undefined): TrafficRoute {
  const id = header(req, 'e2b-sandbox-id');
  const port = header(req, 'e2b-sandbox-port');
  const pathname = path.split('?')[0]!;
  let route: TrafficRoute;
  if (id && port) route = { id, port: parsePort(port), path };
  else if (!id && !port && HEADERLESS_ROUTES.has(pathname)) {
    const token = header(req, 'x-access-token');
    const found = token ? byToken(token) : undefined;
    if (!found) throw new AgentboxError('invalid_argument', 'missing header E2b-Sandbox-Id (and no X-Access-Token of a known sandbox): upgrade the E2B SDK to 2.14.1 or later');
    route = { id: found, port: GUEST_PORT, path };
  } else throw new AgentboxError('invalid_argument', `missing header ${id ? 'E2b-Sandbox-Port' : 'E2b-Sandbox-Id'}`);
  refuseInternal(route);
  return route;
}

export function refuseInternal(r: TrafficRoute): void {
  refuseInternalRoute(r.port, GUEST_PORT, r.path);
}

export function isApiHost(host: string | undefined, domain: string | undefined): boolean {
  return !!host && !!domain && host.replace(/:\d+$/, '').toLowerCase() === `api.${domain}`;
}
