/**
 * The Kubernetes backend: SandboxBackend (src/server/backend.ts) over the Agent Sandbox API, for
 * `agentbox up --kubernetes` and the server Deployment in deploy/. It holds no state of its own:
 * claims, guest Secrets, tenants and keys are read through watch caches of one namespace, so any
 * number of replicas serve the same sandboxes. Dependency direction (docs/architecture.md):
 * src/cluster uses src/k8s's client, caches and router token helpers and src/server's backend
 * types; neither of those imports it.
 */
import { AgentboxError } from '../api/errors.ts';
import { ANNOTATION, LABEL } from '../api/k8s/constants.ts';
import type { Sandbox, SandboxClaim, SandboxTemplate } from '../api/k8s/types.ts';
import { KubeClient, PVCS, SECRETS } from '../k8s/client.ts';
import { GUEST_SECRET_LABEL, type Secret } from '../k8s/extensions/guest-secret.ts';
import { Informer } from '../k8s/informer.ts';
import { CLAIMS, SANDBOXES, TEMPLATES } from '../k8s/resources.ts';
import type { SandboxBackend } from '../server/backend.ts';
import { createEnvdFiles } from '../server/guest-files.ts';
import { ClusterAccounts, CONFIG_MAPS, type ConfigMap } from './accounts.ts';
import { ChangeSignal } from './change-signal.ts';
import { CLUSTER_LABEL } from './labels.ts';
import { RouterRoutes, type RouterAccess } from './router-access.ts';
import { poolView } from './pools.ts';
import { ClusterSandboxes } from './sandboxes.ts';
import { ClusterVolumes, type ClusterVolumeOptions, type Pvc } from './volumes.ts';

/** The app layer builds the client (src/k8s stays out of its imports). */
export { KubeClient };

export interface ClusterBackendOptions {
  client: KubeClient;
  /** The namespace of the sandboxes, their templates and pools, and of tenants and keys. */
  namespace: string;
  router: RouterAccess;
  now?: () => number;
  startTimeoutMs?: number;
  /** Storage class, access mode and default size of volumes' PVCs (docs/volumes.md). */
  volumes?: ClusterVolumeOptions;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface ClusterBackend extends SandboxBackend {
  readonly accounts: ClusterAccounts;
  readonly sandboxes: ClusterSandboxes;
  /** Guest tokens → sandbox ids, for the E2B façade's old-SDK routing. */
  sandboxByGuestToken(token: string): string | undefined;
  /** The sandbox whose guest token satisfies `matches`, for signed file URLs (gateway/e2b/signed-files.ts). */
  sandboxWhereGuestToken(matches: (token: string) => boolean): string | undefined;
  close(): Promise<void>;
}

const EXPIRY_SWEEP_MS = 1000;

const notSupported = (what: string, instead: string) =>
  new AgentboxError('not_supported', `${what} is not available on the Kubernetes backend; ${instead} (docs/kubernetes.md)`);

/** Starts the caches (resolves once each has listed) and returns the backend over them. */
export async function startClusterBackend(o: ClusterBackendOptions): Promise<ClusterBackend> {
  const { client, namespace } = o;
  const onError = (e: unknown) => o.log?.('kubernetes watch failed; retrying', { error: String(e) });
  const claims = new Informer<SandboxClaim>(client, CLAIMS, { namespace, labelSelector: CLUSTER_LABEL.tenant, onError });
  const sandboxes = new Informer<Sandbox>(client, SANDBOXES, { namespace, onError });
  const guestSecrets = new Informer<Secret>(client, SECRETS, { namespace, labelSelector: GUEST_SECRET_LABEL, onError });
  const keys = new Informer<Secret>(client, SECRETS, { namespace, labelSelector: CLUSTER_LABEL.apiKey, onError });
  const tenants = new Informer<ConfigMap>(client, CONFIG_MAPS, { namespace, labelSelector: CLUSTER_LABEL.tenantRecord, onError });
  const templates = new Informer<SandboxTemplate>(client, TEMPLATES, { namespace, onError });
  const pvcs = new Informer<Pvc>(client, PVCS, { namespace, labelSelector: LABEL.volume, onError });
  const changes = new ChangeSignal();
  for (const i of [claims, sandboxes, guestSecrets] as Informer<SandboxClaim | Sandbox | Secret>[]) i.on(changes.notify);
  const caches = [claims, sandboxes, guestSecrets, keys, tenants, templates, pvcs];
  await Promise.all(caches.map((i) => i.start()));

  const now = o.now ?? Date.now;
  const files = createEnvdFiles();
  const routes = new RouterRoutes(o.router, namespace, () => Math.floor(now() / 1000));
  // Each needs the other: a create resolves its volumes, a volume's delete asks which sandboxes mount it.
  const volumes: ClusterVolumes = new ClusterVolumes({ client, namespace, pvcs, ...o.volumes, mountedBy: (pvc) => ops.mountedBy(pvc) });
  const ops = new ClusterSandboxes({
    client, namespace, claims, sandboxes, guestSecrets, changes, routes, files, now, volumes,
    ...(o.startTimeoutMs !== undefined ? { startTimeoutMs: o.startTimeoutMs } : {}),
  });
  const accounts = new ClusterAccounts(client, namespace, tenants, keys);
  // Timeouts that pause (filesystem mode) are the server's to act on; the claim's shutdownTime
  // only deletes. Whole seconds, like shutdownTime; the sweep reads the cache only.
  const expirySweep = setInterval(() => void ops.pauseExpired(), EXPIRY_SWEEP_MS);
  expirySweep.unref();
  const limitsUnsupported = () => { throw notSupported('tenant limits and the server policy', 'use a ResourceQuota on the sandbox namespace'); };
  const eventsUnsupported = () => { throw notSupported('lifecycle events and webhooks', 'watch SandboxClaims with kubectl or the Kubernetes API'); };

  return {
    authenticate: (key) => accounts.authenticate(key),
    sandboxes: ops,
    accounts,
    templates: {
      // The namespace's SandboxTemplates that carry the guest; they are shared by every tenant.
      list: () => templates.list(undefined, namespace).map((t) => ({
        name: t.metadata.name!, visibility: 'public' as const,
        ...(t.spec.podTemplate.metadata?.annotations?.[ANNOTATION.injectGuest]
          ? { state: 'ready' as const } : { state: 'failed' as const, error: `no ${ANNOTATION.injectGuest} annotation: its pods have no agentbox guest` }),
      })),
      build: () => Promise.reject(notSupported('template builds', 'create a SandboxTemplate with kubectl')),
      buildFromUpload: () => Promise.reject(notSupported('template uploads', 'push the image to a registry and create a SandboxTemplate')),
    },
    pools: {
      list: () => [],
      // OpenSandbox Pools (pools.ts), which `extensions.poolRef` names.
      get: (_p, name) => poolView(client, namespace, name),
      set: () => Promise.reject(notSupported('pool changes', 'manage SandboxWarmPools with kubectl; creates use a matching pool')),
      delete: () => { throw notSupported('pool changes', 'manage SandboxWarmPools with kubectl'); },
    },
    volumes,
    limits: { mine: limitsUnsupported, policy: limitsUnsupported, setDefaults: limitsUnsupported, ofTenant: limitsUnsupported, setTenant: limitsUnsupported, clearTenant: limitsUnsupported },
    events: {
      list: eventsUnsupported, subscribe: eventsUnsupported, createWebhook: eventsUnsupported, listWebhooks: eventsUnsupported,
      getWebhook: eventsUnsupported, updateWebhook: eventsUnsupported, deleteWebhook: eventsUnsupported,
    },
    sandboxByGuestToken: (token) => ops.idWhereGuestToken((t) => t === token),
    sandboxWhereGuestToken: (matches) => ops.idWhereGuestToken(matches),
    async close() {
      clearInterval(expirySweep);
      ops.close();
      files.close();
      await Promise.all(caches.map((i) => i.stop()));
    },
  };
}
