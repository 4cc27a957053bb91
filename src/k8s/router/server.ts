// The sandbox router (data plane): `agentbox router`. Stateless reverse proxy selecting the pod
// by X-Sandbox-* headers among the Sandboxes of its sandbox namespaces; /healthz and /metrics are
// its own. Calls to an injected guest's envd port carry that guest's access token, added here
// for callers the authz mode admitted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KubeClient } from '../client.ts';
import { ACCESS_TOKEN_HEADER, GUEST_PORT } from '../../api/envd-protocol.ts';
import { OPERATING_MODE } from '../../api/k8s/constants.ts';
import { SANDBOXES } from '../resources.ts';
import { wakesOnTraffic } from '../sandbox/idle.ts';
import { ActivityRecorder } from './activity.ts';
import { authorize, type AuthMode } from './auth.ts';
import { ClusterView } from './cluster-view.ts';
import { RouterError, writeError } from './errors.ts';
import { proxyHttp, proxyUpgrade } from './proxy.ts';
import { resolveUpstream } from './resolve.ts';
import { parseTarget, type Target } from './target.ts';
import { Waker } from './wake.ts';

export interface RouterOptions {
  port: number;
  host?: string;
  /** Reads Sandboxes, their pods and guest Secrets. */
  client: KubeClient;
  /** The sandbox namespaces; requests for any other are refused. Empty: all namespaces. */
  namespaces: readonly string[];
  auth: AuthMode;
  clusterDomain?: string;
  proxyTimeoutMs?: number;
  /** How often the traffic of Sandboxes that suspend when idle is written to them (default 10 s). */
  activityFlushMs?: number;
  /** How long a request for a Sandbox that is resuming is held for its pod (default 120 s). */
  wakeTimeoutMs?: number;
  /** Failures the router recovers from but an operator should see (a failed activity write). */
  log?: (msg: string) => void;
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
  const wakes = new Counter({ name: 'sandbox_router_wakes_total', help: 'Suspended Sandboxes resumed by a request', registers: [registry] });
  new Gauge({ name: 'sandbox_router_build_info', help: 'Build information', labelNames: ['implementation'], registers: [registry] }).set({ implementation: 'agentbox' }, 1);

  const auth = o.auth;
  const clusterDomain = o.clusterDomain ?? 'cluster.local';
  const timeoutMs = o.proxyTimeoutMs ?? 180_000;
  const view = new ClusterView(o.client, o.namespaces);
  await view.start();

  const patchSandbox = (namespace: string, name: string, patch: unknown) => o.client.patch(SANDBOXES, namespace, name, patch).then(() => undefined);
  const activity = new ActivityRecorder({
    patch: (namespace, name, annotations) => patchSandbox(namespace, name, { metadata: { annotations } }),
    now: () => new Date(),
    everyMs: o.activityFlushMs ?? 10_000,
    onError: (sandbox, e) => o.log?.(`recording traffic of sandbox ${sandbox} failed: ${e instanceof Error ? e.message : String(e)}`),
  });
  activity.start();
  const waker = new Waker();
  const wakeTimeoutMs = o.wakeTimeoutMs ?? 120_000;

  /** The target's upstream; a Sandbox that suspends when idle is resumed and waited for first. */
  const resolveOrWake = (target: Target) => {
    const livePod = () => resolveUpstream(target, view, clusterDomain);
    const sb = view.watches(target.namespace) ? view.sandbox(target.namespace, target.id) : undefined;
    if (!sb || !wakesOnTraffic(sb)) return livePod();
    if (sb.spec.operatingMode === OPERATING_MODE.suspended) wakes.inc();
    return waker.wake(sb, { patch: patchSandbox, livePod, timeoutMs: wakeTimeoutMs });
  };

  const route = async (req: http.IncomingMessage) => {
    const target = parseTarget(req.headers);
    try { authorize(auth, req.headers, target, Math.floor(Date.now() / 1000)); authz.inc({ decision: 'allow' }); } catch (e) { authz.inc({ decision: 'deny' }); throw e; }
    const up = await resolveOrWake(target);
    if (up.port === GUEST_PORT) {
      const token = await view.guestToken(up.sandbox);
      if (token) up.headers = { [ACCESS_TOKEN_HEADER]: token };
    }
    return up;
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
    route(req)
      .then((up) => {
        via = up.via;
        // Ends with the response, whether it completed or the client went away.
        res.once('close', activity.begin(up.sandbox));
        return proxyHttp(req, res, up, timeoutMs, { onRetry: () => retries.inc() });
      })
      .then(() => finish(res.statusCode))
      .catch((e: unknown) => {
        const status = e instanceof RouterError ? e.status : 502;
        if (status >= 500) upstreamErrors.inc();
        writeError(res, status, e instanceof Error ? e.message : String(e));
        finish(status);
      });
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    route(req).then((up) => {
      socket.once('close', activity.begin(up.sandbox));
      proxyUpgrade(req, socket, head, up);
      requests.inc({ code: '101', resolved_via: 'upgrade' });
    }, (e: unknown) => {
      const status = e instanceof RouterError ? e.status : 502;
      const body = JSON.stringify({ detail: e instanceof Error ? e.message : String(e) });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
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
      await activity.stop();
      await view.stop();
    },
  };
}
