// KEDA's external scaler served by the operator (spec/keda/externalscaler.proto), so a
// ScaledObject scales a SandboxWarmPool through its scale subresource with no Prometheus in
// between (docs/kubernetes-scaling.md). gRPC over cleartext HTTP/2 through connect-node, which
// is what KEDA's `external` scaler dials.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { codeFromString } from '@connectrpc/connect/protocol-connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { AgentboxError, asAgentboxError } from '../../api/errors.ts';
import { CONNECT_CODE_OF } from '../../api/envd-protocol.ts';
import { ExternalScaler, type ScaledObjectRef } from './gen/externalscaler_pb.ts';
import { DEFAULT_WINDOW_MS, MAX_WINDOW_MS, type PoolDemand, type PoolDemandView } from './demand.ts';

/** Keys of a ScaledObject trigger's `metadata` that this scaler reads. */
const SCALER_METADATA = { warmPool: 'warmPool', namespace: 'namespace', windowSeconds: 'windowSeconds' } as const;

/** One warm member serves one claim: KEDA's HPA sets replicas = ceil(wanted / 1). */
const TARGET_PER_REPLICA = 1;

interface Target { namespace: string; pool: string; windowMs: number }

/** The pool a ScaledObject names, from its trigger metadata; bad metadata is the caller's to fix. */
export function targetOf(ref: ScaledObjectRef | undefined): Target {
  const meta = ref?.scalerMetadata ?? {};
  const pool = meta[SCALER_METADATA.warmPool];
  if (!pool) throw new AgentboxError('invalid_argument', `trigger metadata needs ${SCALER_METADATA.warmPool}: the SandboxWarmPool to scale`);
  const namespace = meta[SCALER_METADATA.namespace] || ref?.namespace;
  if (!namespace) throw new AgentboxError('invalid_argument', `no namespace: set the ScaledObject's or trigger metadata ${SCALER_METADATA.namespace}`);
  const raw = meta[SCALER_METADATA.windowSeconds];
  const windowMs = raw === undefined || raw === '' ? DEFAULT_WINDOW_MS : Number(raw) * 1000;
  if (!Number.isInteger(windowMs / 1000) || windowMs <= 0 || windowMs > MAX_WINDOW_MS) {
    throw new AgentboxError('invalid_argument', `${SCALER_METADATA.windowSeconds} must be a whole number of seconds from 1 to ${MAX_WINDOW_MS / 1000} (got "${raw}")`);
  }
  return { namespace, pool, windowMs };
}

/** The metric KEDA names in GetMetrics; one per pool, so several ScaledObjects never collide. */
const metricNameOf = (t: Target) => `warmpool-${t.namespace}-${t.pool}`;

function demandOf(view: PoolDemandView, t: Target): PoolDemand {
  const d = view.demand(t.namespace, t.pool, t.windowMs);
  if (!d) throw new AgentboxError('not_found', `SandboxWarmPool ${t.namespace}/${t.pool} does not exist (or is outside the operator's --namespace)`);
  return d;
}

/** Resolves when `signal` aborts (the KEDA side closed the stream). */
const aborted = (signal: AbortSignal) => new Promise<void>((r) => {
  if (signal.aborted) r(); else signal.addEventListener('abort', () => r(), { once: true });
});

export interface ExternalScalerOptions {
  /**
   * The demand of the operator's caches; throws `unavailable` while there are none (a replica
   * standing by for leadership), which KEDA retries.
   */
  view: () => PoolDemandView;
  /**
   * How often an open StreamIsActive re-reads the demand with no event: arrivals leave the window
   * as time passes, which no watch event announces.
   */
  recheckMs?: number;
}

/**
 * IsActive now and after every change to it, until KEDA closes the stream. A pool deleted
 * meanwhile reads as inactive: its ScaledObject has nothing left to scale.
 */
async function* activeStream(view: PoolDemandView, t: Target, signal: AbortSignal, recheckMs: number): AsyncIterable<{ result: boolean }> {
  let wake = () => {};
  const unsubscribe = view.subscribe(() => wake());
  const timer = setInterval(() => wake(), recheckMs);
  // One promise for the stream's life: a listener per wait would pile up on a long stream.
  const closed = aborted(signal);
  try {
    let last: boolean | undefined;
    while (!signal.aborted) {
      // Armed before reading, so a change between the read and the wait is not lost.
      const changed = new Promise<void>((r) => { wake = r; });
      const active = (view.demand(t.namespace, t.pool, t.windowMs)?.wanted ?? 0) > 0;
      if (active !== last) yield { result: (last = active) };
      await Promise.race([changed, closed]);
    }
  } finally {
    unsubscribe();
    clearInterval(timer);
  }
}

function registerExternalScaler(router: ConnectRouter, o: ExternalScalerOptions): void {
  const recheckMs = o.recheckMs ?? 5_000;
  router.service(ExternalScaler, {
    isActive: (ref) => ({ result: demandOf(o.view(), targetOf(ref)).wanted > 0 }),
    streamIsActive: (ref, ctx) => {
      // Checked here, before the stream starts, so bad metadata or a missing pool is the call's
      // error with its code rather than a broken stream.
      const t = targetOf(ref);
      const view = o.view();
      demandOf(view, t);
      return activeStream(view, t, ctx.signal, recheckMs);
    },
    getMetricSpec: (ref) => {
      const t = targetOf(ref);
      demandOf(o.view(), t);
      return { metricSpecs: [{ metricName: metricNameOf(t), targetSize: BigInt(TARGET_PER_REPLICA), targetSizeFloat: TARGET_PER_REPLICA }] };
    },
    getMetrics: (req) => {
      const t = targetOf(req.scaledObjectRef);
      const wanted = demandOf(o.view(), t).wanted;
      return { metricValues: [{ metricName: req.metricName || metricNameOf(t), metricValue: BigInt(wanted), metricValueFloat: wanted }] };
    },
  });
}

/** This edge's error table: our codes → gRPC status codes (rule "errors are translated at the edges"). */
const translateErrors: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    const e = asAgentboxError(err);
    throw new ConnectError(e.message, codeFromString(CONNECT_CODE_OF[e.code]) ?? Code.Internal);
  }
};

export interface RunningExternalScaler { port: number; close(): Promise<void> }

/** Serves the scaler on `host:port` (port 0 = any free one) as gRPC over cleartext HTTP/2. */
export async function startExternalScaler(bind: { host: string; port: number }, o: ExternalScalerOptions): Promise<RunningExternalScaler> {
  const handler = connectNodeAdapter({
    routes: (router) => registerExternalScaler(router, o),
    interceptors: [translateErrors],
    // KEDA speaks gRPC only.
    grpc: true, connect: false, grpcWeb: false,
  });
  const server = http2.createServer(handler);
  // KEDA keeps StreamIsActive open for as long as the ScaledObject exists: close ends them.
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => { sessions.add(s); s.once('close', () => sessions.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sessions) s.destroy();
    }),
  };
}
