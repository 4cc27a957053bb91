/**
 * The single-node backend: SandboxBackend (backend.ts) over this server's service, stores, pools
 * and policy. The composition root builds it once and hands it to every façade.
 */
import { notFound } from '../api/errors.ts';
import type { TenantView } from '../api/native.ts';
import type { AuthStore } from './auth-store.ts';
import type { EventOps, SandboxBackend } from './backend.ts';
import type { PoolManager } from './pools.ts';
import type { Quota } from './quota.ts';
import type { SandboxService } from './service.ts';
import type { TemplateAccess } from './templates.ts';
import type { VolumeService } from './volumes/volume-service.ts';

export interface LocalBackendParts {
  service: SandboxService;
  auth: AuthStore;
  templates: TemplateAccess;
  pools: PoolManager;
  quota: Quota;
  events: EventOps;
  volumes: VolumeService;
}

export function localBackend({ service, auth, templates, pools, quota, events, volumes }: LocalBackendParts): SandboxBackend {
  /** The tenant named by name or id, or not_found. */
  const tenant = (ref: string): TenantView => {
    const t = auth.findTenant(ref);
    if (!t) throw notFound('tenant', ref);
    return t;
  };
  return {
    authenticate: (key) => auth.authenticate(key),
    sandboxes: service,
    events,
    volumes,
    templates: {
      list: (p) => templates.list(p),
      // A snapshotted start command is checked in the runtime the caller's creates get (its
      // policy may differ from the server's default).
      build: (p, recipe, onProgress) => templates.build(p, recipe, onProgress, quota.runtime(p)),
      buildFromUpload: (p, name, archive, opts) => templates.buildFromUpload(p, name, archive, opts),
    },
    pools: {
      list: (p) => pools.list(p.tenantId),
      get(p, template) {
        const pool = pools.get(p.tenantId, template);
        if (!pool) throw notFound('pool', template);
        return pool;
      },
      async set(p, template, sizing, runtime) {
        const tpl = await templates.usable(p, template);
        return pools.set(p, template, sizing, tpl, runtime);
      },
      delete(p, template) {
        if (!pools.delete(p.tenantId, template)) throw notFound('pool', template);
      },
    },
    limits: {
      mine: (p) => quota.tenantView({ id: p.tenantId, name: p.tenantName }, p.admin),
      policy: () => quota.policyView(),
      setDefaults: (defaults) => quota.setDefaults(defaults),
      ofTenant: (ref) => quota.tenantView(tenant(ref)),
      setTenant(ref, patch) {
        const t = tenant(ref);
        quota.setTenant(t, patch);
        return quota.tenantView(t);
      },
      clearTenant(ref) {
        const t = tenant(ref);
        if (!quota.setTenant(t, undefined)) throw notFound('limits of tenant', t.name);
      },
    },
    accounts: {
      listTenants: () => auth.listTenants(),
      createTenant: (name) => auth.createTenant(name),
      listKeys: () => auth.listKeys(),
      createKey: (opts) => auth.createKey(opts),
      revokeKey: (id) => auth.revokeKey(id),
    },
  };
}
