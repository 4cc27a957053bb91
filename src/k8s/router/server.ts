// The sandbox router (data plane): `agentbox router`. Stateless reverse proxy selecting the pod
// by X-Sandbox-* headers; /healthz and /metrics are its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LABEL } from '../../api/k8s/constants.ts';
import { PODS, type KubeClient } from '../client.ts';
import { Informer } from '../informer.ts';
import type { Pod } from '../sandbox/pod.ts';
import { authorize, type AuthMode } from './auth.ts';
import { RouterError, writeError } from './errors.ts';
import { proxyHttp, proxyUpgrade } from './proxy.ts';
import { resolveUpstream } from './resolve.ts';
import { parseTarget } from './target.ts';

export interface RouterOptions {
  port: number;
  host?: string;
  /** Pod cache; without a client the router resolves by header hints and DNS only. */
  client?: KubeClient;
  namespace?: string;
  auth?: AuthMode;
  clusterDomain?: string;
  proxyTimeoutMs?: number;
}

export interface RunningRouter { port: number; registry: Registry; close(): Promise<void> }

export async function startRouter(o: RouterOptions): Promise<RunningRouter> {
  const registry = new Registry();
  const requests = new Counter({ name: 'sandbox_router_requests_total', help: 'Requests by outcome', labelNames: ['code', 'resolved_via'], registers: [registry] });
  const duration = new Histogram({ name: 'sandbox_router_request_duration_seconds', help: 'Request duration', labelNames: ['code'], registers: [registry] });
  const inflight = new Gauge({ name: 'sandbox_router_inflight_requests', help: 'Requests in flight', registers: [registry] });
  const upstreamErrors = new Counter({ name: 'sandbox_router_upstream_errors_total', help: 'Failed upstream calls', registers: [registry] });
  const retries = new Counter({ name: 'sandbox_router_upstream_retries_total', help: 'Upstream dial retries', registers: [registry] });
  const authz = new Counter({ name: 'sandbox_router_authz_decisions_total', help: 'Authorization decisions', labelNames: ['decision'], registers: [registry] });
  new Gauge({ name: 'sandbox_router_build_info', help: 'Build information', labelNames: ['implementation'], registers: [registry] }).set({ implementation: 'agentbox' }, 1);

  const auth = o.auth ?? { mode: 'allow-all' as const };
  const clusterDomain = o.clusterDomain ?? 'cluster.local';
  const timeoutMs = o.proxyTimeoutMs ?? 180_000;
  const pods = o.client ? new Informer<Pod>(o.client, PODS, { namespace: o.namespace, labelSelector: LABEL.sandboxNameHash }) : undefined;
  if (pods) await pods.start();

  const route = (req: http.IncomingMessage) => {
    const target = parseTarget(req.headers);
    try { authorize(auth, req.headers, target, Math.floor(Date.now() / 1000)); authz.inc({ decision: 'allow' }); } catch (e) { authz.inc({ decision: 'deny' }); throw e; }
    return resolveUpstream(target, pods, clusterDomain);
  };

  const server = http.createServer((req, res) => {
    if (req.url === '/healthz' && !req.headers['x-sandbox-id']) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.url === '/metrics' && !req.headers['x-sandbox-id']) {
      void registry.metrics().then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text));
      return;
    }
    const end = duration.startTimer();
    inflight.inc();
    let via = 'none';
    const finish = (code: number) => { inflight.dec(); end({ code: String(code) }); requests.inc({ code: String(code), resolved_via: via }); };
    Promise.resolve()
      .then(() => { const up = route(req); via = up.via; return proxyHttp(req, res, up, timeoutMs, { onRetry: () => retries.inc() }); })
      .then(() => finish(res.statusCode))
      .catch((e: unknown) => {
        const status = e instanceof RouterError ? e.status : 502;
        if (status >= 500) upstreamErrors.inc();
        writeError(res, status, e instanceof Error ? e.message : String(e));
        finish(status);
      });
  });
  server.on('upgrade', (req, socket, head) => {
    try {
      proxyUpgrade(req, socket, head, route(req));
      requests.inc({ code: '101', resolved_via: 'upgrade' });
    } catch (e) {
      const status = e instanceof RouterError ? e.status : 502;
      const body = JSON.stringify({ detail: e instanceof Error ? e.message : String(e) });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    registry,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await pods?.stop();
    },
  };
}
