/**
 * The composition root of `agentbox up --kubernetes` and of the server Deployment in deploy/: the
 * same façades as one machine (listenGateway in server.ts) over the Kubernetes backend
 * (src/cluster), which keeps all its state in the cluster, so replicas need no shared disk.
 */
import { join } from 'node:path';
import { startClusterBackend, type KubeClient } from '../cluster/backend.ts';
import type { RouterAccess } from '../cluster/router-access.ts';
import type { ClusterVolumeOptions } from '../cluster/volumes.ts';
import { Metrics } from '../gateway/metrics.ts';
import { ensureAdminKey, listenGateway, type GatewayOptions } from './gateway.ts';

export interface KubernetesServerOptions extends GatewayOptions {
  client: KubeClient;
  namespace: string;
  router: RouterAccess;
  /**
   * Where the admin key is kept between runs (`agentbox up --kubernetes`); absent in a
   * Deployment, where the admin key is made with `agentbox keys create` against a running server
   * or given as `adminKey`.
   */
  home?: string;
  /** A bootstrap admin key (e.g. from a Secret): its hash is stored in the cluster on first start. */
  adminKey?: string;
  now?: () => number;
  startTimeoutMs?: number;
  /** Storage class, access mode and default size of volumes (docs/volumes.md). */
  volumes?: ClusterVolumeOptions;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningKubernetesServer {
  url: string;
  port: number;
  /** The admin key, when this process made or read one. */
  adminKey?: string;
  adminKeyPath?: string;
  close(): Promise<void>;
}

export async function startKubernetesServer(o: KubernetesServerOptions): Promise<RunningKubernetesServer> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((msg, fields) => console.error(JSON.stringify({ t: new Date().toISOString(), msg, ...fields })));
  const backend = await startClusterBackend({
    client: o.client, namespace: o.namespace, router: o.router, now, log,
    ...(o.startTimeoutMs !== undefined ? { startTimeoutMs: o.startTimeoutMs } : {}),
    ...(o.volumes ? { volumes: o.volumes } : {}),
  });
  const adminKeyPath = o.home ? join(o.home, 'admin.key') : undefined;
  let adminKey: string | undefined;
  if (o.adminKey) adminKey = await backend.accounts.ensureBootstrapKey(o.adminKey);
  else if (adminKeyPath) adminKey = await ensureAdminKey({ authenticate: (k) => backend.authenticate(k), createKey: (x) => backend.accounts.createKey(x) }, adminKeyPath);
  // Pool sizes are the SandboxWarmPools' status, which the operator exports in its own metrics.
  const metrics = new Metrics({ sandboxCounts: () => backend.sandboxes.counts(), poolSizes: () => [] });
  const gw = await listenGateway(o, { backend, metrics, log, now, sandboxByGuestToken: (t) => backend.sandboxByGuestToken(t), sandboxWhereGuestToken: (m) => backend.sandboxWhereGuestToken(m) });
  return {
    url: gw.url, port: gw.port, ...(adminKey ? { adminKey } : {}), ...(adminKeyPath ? { adminKeyPath } : {}),
    async close() {
      await gw.close();
      await backend.close();
    },
  };
}
