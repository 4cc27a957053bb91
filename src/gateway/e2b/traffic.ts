/**
 * Which sandbox port an E2B sandbox request is for (E2B's published spec, github.com/e2b-dev/E2B `spec/`): the
 * `E2b-Sandbox-Id`/`E2b-Sandbox-Port` headers on the single sandbox address (old SDKs that send
 * neither are routed by legacy.ts). Envd's internal routes are never reachable from outside.
 */
import type { IncomingMessage } from 'node:http';
import { AgentboxError } from '../../api/errors.ts';
import { GUEST_PORT } from '../../server/backend.ts';
import { refuseInternal as refuseInternalRoute } from '../traffic-rules.ts';
import { headerlessRoute, type GuestTokenLookup, type TrafficRoute } from './legacy.ts';

export type { TrafficRoute };

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
export function trafficRoute(req: IncomingMessage, path: string, byToken: GuestTokenLookup): TrafficRoute {
  const id = header(req, 'e2b-sandbox-id');
  const port = header(req, 'e2b-sandbox-port');
  const route = id && port ? { id, port: parsePort(port), path } : !id && !port ? headerlessRoute(req, path, byToken) : undefined;
  if (!route) throw new AgentboxError('invalid_argument', `missing header ${id ? 'E2b-Sandbox-Port' : 'E2b-Sandbox-Id'}`);
  refuseInternal(route);
  return route;
}

export function refuseInternal(r: TrafficRoute): void {
  refuseInternalRoute(r.port, GUEST_PORT, r.path);
}

export function isApiHost(host: string | undefined, domain: string | undefined): boolean {
  return !!host && !!domain && host.replace(/:\d+$/, '').toLowerCase() === `api.${domain}`;
}
