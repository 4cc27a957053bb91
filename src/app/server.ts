/**
 * The composition root of the agentbox server (docs/architecture.md, rule “wired by hand at the root”): opens the state database, recovers
 * from a crash, wires stores, service, pools, lifecycle, metrics and the gateway by hand, and
 * starts listening. The engine and its template catalog are passed in, so tests and `agentbox
 * up` differ only in what they pass.
 */
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import type { RuntimeName } from '../api/native.ts';
import type { Engine } from '../engine/types.ts';
import { Metrics } from '../gateway/metrics.ts';
import type { ServerLimits } from '../gateway/limits.ts';
import { AuthStore } from '../server/auth-store.ts';
import { openDb } from '../server/db.ts';
import { createEnvdFiles, type SandboxFiles } from '../server/guest-files.ts';
import { GuestTokenIndex } from '../server/guest-token-index.ts';
import { LifecycleLoop } from '../server/lifecycle.ts';
import type { HostCapacity } from '../server/policy.ts';
import { PolicyStore } from '../server/policy-store.ts';
import { PoolStore } from '../server/pool-store.ts';
import { PoolManager } from '../server/pools.ts';
import { Quota } from '../server/quota.ts';
import { recover, type RecoveryReport } from '../server/recovery.ts';
import { SandboxStore } from '../server/sandbox-store.ts';
import { EndedStore } from '../server/ended-store.ts';
import { SnapshotStore } from '../server/snapshot-store.ts';
import { VolumeService } from '../server/volumes/volume-service.ts';
import { VolumeStore } from '../server/volumes/volume-store.ts';
import { localBackend } from '../server/local-backend.ts';
import { ensureAdminKey, listenGateway } from './gateway.ts';
import { SandboxService, type ServiceEvents } from '../server/service.ts';
import { TemplateAccess, type TemplateCatalog } from '../server/templates.ts';
import { TrafficTokens } from '../server/traffic-tokens.ts';
import { WebhookDeliverer, type DeliveryTuning } from '../server/events/deliverer.ts';
import { EventLog } from '../server/events/event-log.ts';
import { localEventOps } from '../server/events/event-ops.ts';
import { Outbox } from '../server/events/outbox.ts';
import { WebhookStore } from '../server/events/webhook-store.ts';

export interface ServerOptions {
  /** AGENTBOX_HOME: state.db, admin.key and policy.json live here. */
  home: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Base domain for `<port>-<id>.<domain>` host routing. */
  domain?: string;
  engine: Engine;
  catalog: TemplateCatalog;
  defaultRuntime?: RuntimeName;
  files?: SandboxFiles;
  now?: () => number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Upper bound of the lifecycle loop's sleep. */
  lifecycleMaxSleepMs?: number;
  poolRetryMs?: number;
  /** How long after a claim its pool starts refilling (server/pools.ts CLAIM_REFILL_DELAY_MS). */
  poolClaimRefillDelayMs?: number;
  /** PEM certificate and key: the server speaks HTTPS (E2B host routing for SDKs before 2.7). */
  tls?: { cert: string; key: string };
  /** Largest file one upload may write (default 16 GiB; uploads are streamed, not buffered). */
  maxFileBytes?: number;
  /** What one sandbox may be given at most (default: this machine's cores and memory). */
  hostCapacity?: HostCapacity;
  /** Largest file one download may stream (default 16 GiB). */
  maxDownloadBytes?: number;
  /** Bytes of each output stream a buffered exec result keeps (default 16 MiB; then `truncated`). */
  maxExecOutputBytes?: number;
  /** HTTP timeouts and the connection cap (gateway/limits.ts). */
  limits?: Partial<ServerLimits>;
  /**
   * Webhook delivery (server/events/deliverer.ts). `allowPrivateTargets` lets webhooks reach
   * loopback, private and link-local addresses (default: env AGENTBOX_WEBHOOK_ALLOW_PRIVATE=1).
   */
  webhooks?: { allowPrivateTargets?: boolean; tuning?: Partial<DeliveryTuning> };
}

export interface RunningServer {
  url: string;
  port: number;
  adminKeyPath: string;
  adminKey: string;
  recovery: RecoveryReport;
  service: SandboxService;
  /** Stops accepting requests and timers; sandboxes keep running (they are re-adopted next start). */
  close(): Promise<void>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((msg, fields) => console.error(JSON.stringify({ t: new Date().toISOString(), msg, ...fields })));
  const defaultRuntime = o.defaultRuntime ?? 'gvisor';
  const db = openDb(join(o.home, 'state.db'));
  const auth = new AuthStore(db, now);
  const adminKeyPath = join(o.home, 'admin.key');
  const adminKey = await ensureAdminKey(auth, adminKeyPath);
  const store = new SandboxStore(db);
  const envdFiles = o.files ? undefined : createEnvdFiles(o.maxDownloadBytes !== undefined ? { maxDownloadBytes: o.maxDownloadBytes } : {});
  const tokens = new GuestTokenIndex(o.engine);
  const engine = tokens.observe();
  const poolStore = new PoolStore(db);
  const quota = new Quota({
    policy: new PolicyStore(join(o.home, 'policy.json'), log), store, pools: poolStore, defaultRuntime,
    host: o.hostCapacity ?? { cpus: availableParallelism(), memoryMiB: Math.floor(totalmem() / 2 ** 20) },
    tenantName: (id) => auth.findTenant(id)?.name ?? id,
  });
  const templates = new TemplateAccess(db, o.catalog, now, (p) => quota.beginBuild(p));
  const pools = new PoolManager({ engine, store, pools: poolStore, templates, quota, now, log, defaultRuntime, retryMs: o.poolRetryMs ?? 5000, claimRefillDelayMs: o.poolClaimRefillDelayMs });
  const outbox = new Outbox(db);
  const eventLog = new EventLog(db, outbox, now);
  const allowPrivateTargets = o.webhooks?.allowPrivateTargets ?? process.env.AGENTBOX_WEBHOOK_ALLOW_PRIVATE === '1';
  const deliverer = new WebhookDeliverer({ outbox, now, log, allowPrivateTargets, ...(o.webhooks?.tuning ? { tuning: o.webhooks.tuning } : {}) });
  eventLog.subscribe(() => deliverer.poke());
  let metrics: Metrics | undefined;
  // The service tells the lifecycle loop and the proxy what changed; both are built after it
  // and neither is called before the server listens.
  const files = o.files ?? envdFiles!;
  const events: ServiceEvents = {
    timersChanged: () => lifecycle.poke(),
    checkpointed: (id) => {
      proxy.forget(id);
      files.forget(id);
    },
  };
  const volumes = new VolumeService({ engine, store: new VolumeStore(db), quota, now });
  const service = new SandboxService({
    engine, store, volumes, ended: new EndedStore(db), snapshots: new SnapshotStore(db), templates, files, pools, quota, now, log,
    traffic: new TrafficTokens(db), events, eventLog,
    observe: (op, ms) => metrics?.observe(op, ms),
  });
  metrics = new Metrics({
    sandboxCounts: () => service.counts(),
    poolSizes: () => poolStore.list().map((p) => ({ tenant: p.tenantId, template: p.template, size: p.size, ready: pools.get(p.tenantId, p.template)?.ready ?? 0 })),
  });
  const recovery = await recover(o.engine, store, now(), log);
  const lifecycle = new LifecycleLoop({ store, service, now, log, maxSleepMs: o.lifecycleMaxSleepMs ?? 1000 });
  const backend = localBackend({
    service, auth, templates, pools, quota, events: localEventOps({ log: eventLog, webhooks: new WebhookStore(db, now), allowPrivateTargets }), volumes,
  });
  const gw = await listenGateway(o, { backend, metrics, log, now, sandboxByGuestToken: (t) => tokens.lookup(t), sandboxWhereGuestToken: (m) => tokens.find(m) });
  const proxy = gw.proxy;
  lifecycle.start();
  deliverer.start();
  pools.reconcileAll();
  return {
    url: gw.url, port: gw.port, adminKeyPath, adminKey, recovery, service,
    async close() {
      await gw.close();
      envdFiles?.close();
      await lifecycle.stop();
      await deliverer.stop();
      await pools.close();
      db.close();
    },
  };
}
