/**
 * Tenants and API keys kept in the cluster, so every replica of the server authenticates the same
 * keys: a tenant is a ConfigMap, a key a Secret holding only the key's SHA-256 (as the local
 * store, src/server/auth-store.ts), both labelled and read through watch caches. Writes go to the
 * API server first and into this replica's cache at once, so a key works here the moment it is
 * made and on other replicas when their watch delivers it.
 */
import { AgentboxError, notFound } from '../api/errors.ts';
import type { ApiKeyView, CreatedKeyView, TenantView } from '../api/native.ts';
import type { KubeObject } from '../api/k8s/types.ts';
import { isAlreadyExists, SECRETS, type KubeClient, type ResourceType } from '../k8s/client.ts';
import type { Secret } from '../k8s/extensions/guest-secret.ts';
import type { Informer } from '../k8s/informer.ts';
import { DEFAULT_TENANT, hashKey, mintApiKey, newTenantId, unknownKey, type Principal } from '../server/auth-store.ts';
import type { AccountOps } from '../server/backend.ts';
import { CLUSTER_LABEL } from './labels.ts';

export const CONFIG_MAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
export interface ConfigMap extends KubeObject { data?: Record<string, string> }

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));
/** Object names are DNS-1123: tenant and key ids use `_`, which becomes `-` in names only. */
/** One ConfigMap per tenant name (hex-encoded: any name is a valid object name), so two replicas creating the same tenant collide. */
const tenantObject = (name: string) => `agentbox-tenant-${name === DEFAULT_TENANT ? DEFAULT_TENANT : Buffer.from(name).toString('hex')}`;
const keyObject = (id: string) => `agentbox-key-${id.replace(/_/g, '-')}`;

interface KeyRecord { id: string; tenantId: string; hash: string; prefix: string; name: string; admin: boolean; createdAt: string; revokedAt?: string }

function keyRecord(s: Secret): KeyRecord | undefined {
  const d = s.data ?? {};
  const r = { id: unb64(d.id), tenantId: unb64(d.tenantId), hash: unb64(d.hash), prefix: unb64(d.prefix), name: unb64(d.name) ?? '', admin: unb64(d.admin) === 'true' };
  if (!r.id || !r.tenantId || !r.hash || !r.prefix) return undefined;
  const revokedAt = unb64(d.revokedAt);
  return { ...r, id: r.id, tenantId: r.tenantId, hash: r.hash, prefix: r.prefix, createdAt: s.metadata.creationTimestamp ?? '', ...(revokedAt ? { revokedAt } : {}) };
}

const tenantView = (c: ConfigMap): TenantView | undefined =>
  c.data?.id && c.data.name ? { id: c.data.id, name: c.data.name, createdAt: c.metadata.creationTimestamp ?? '' } : undefined;

export class ClusterAccounts implements AccountOps {
  constructor(private readonly client: KubeClient, private readonly namespace: string,
    private readonly tenants: Informer<ConfigMap>, private readonly keys: Informer<Secret>) {}

  findTenant(ref: string): TenantView | undefined {
    return this.listTenants().find((t) => t.id === ref || t.name === ref);
  }

  listTenants(): TenantView[] {
    return this.tenants.list(undefined, this.namespace).map(tenantView).filter((t): t is TenantView => !!t)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }

  async createTenant(name: string): Promise<TenantView> {
    if (this.findTenant(name)) throw new AgentboxError('already_exists', `tenant '${name}' already exists`, { details: { tenant: name } });
    const id = newTenantId(name);
    try {
      const made = await this.client.create<ConfigMap>(CONFIG_MAPS, this.namespace, {
        metadata: { name: tenantObject(name), labels: { [CLUSTER_LABEL.tenantRecord]: 'true' } },
        data: { id, name },
      });
      this.tenants.observe(made);
      return tenantView(made)!;
    } catch (e) {
      if (isAlreadyExists(e)) throw new AgentboxError('already_exists', `tenant '${name}' already exists`, { details: { tenant: name } });
      throw e;
    }
  }

  private async ensureTenant(name: string): Promise<TenantView> {
    try {
      return this.findTenant(name) ?? await this.createTenant(name);
    } catch (e) {
      // Another replica made it meanwhile: read it back.
      if (e instanceof AgentboxError && e.code === 'already_exists') {
        const made = await this.client.get<ConfigMap>(CONFIG_MAPS, this.namespace, tenantObject(name));
        this.tenants.observe(made);
        return tenantView(made)!;
      }
      throw e;
    }
  }

  private records(): KeyRecord[] {
    return this.keys.list(undefined, this.namespace).map(keyRecord).filter((k): k is KeyRecord => !!k);
  }

  listKeys(): ApiKeyView[] {
    const names = new Map(this.listTenants().map((t) => [t.id, t.name]));
    return this.records().sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((k) => ({
      id: k.id, tenant: names.get(k.tenantId) ?? k.tenantId, name: k.name, admin: k.admin, prefix: k.prefix, createdAt: k.createdAt,
      ...(k.revokedAt ? { revokedAt: k.revokedAt } : {}),
    }));
  }

  async createKey(opts: { tenant: string; name?: string; admin?: boolean }): Promise<CreatedKeyView> {
    const tenant = await this.ensureTenant(opts.tenant);
    const { secret, id, prefix } = mintApiKey();
    const name = opts.name ?? '';
    const admin = !!opts.admin;
    const made = await this.client.create<Secret>(SECRETS, this.namespace, this.keySecret(id, tenant.id, secret, name, admin));
    this.keys.observe(made);
    return { id, tenant: tenant.name, name, admin, prefix, createdAt: made.metadata.creationTimestamp ?? new Date().toISOString(), key: secret };
  }

  /**
   * Stores the hash of an admin key given from outside (a Deployment's Secret) unless a key with
   * that hash exists; returns the key. Its Secret name is derived from the hash, so replicas
   * starting together make it once.
   */
  async ensureBootstrapKey(secret: string): Promise<string> {
    const hash = hashKey(secret);
    if (this.records().some((r) => r.hash === hash && !r.revokedAt)) return secret;
    if (this.records().some((r) => r.hash === hash)) throw new AgentboxError('permission_denied', 'the bootstrap admin key was revoked; give the server a new one');
    const tenant = await this.ensureTenant(DEFAULT_TENANT);
    const id = `k_boot${hash.slice(0, 12)}`;
    try {
      this.keys.observe(await this.client.create<Secret>(SECRETS, this.namespace, this.keySecret(id, tenant.id, secret, 'bootstrap admin', true)));
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    return secret;
  }

  private keySecret(id: string, tenantId: string, secret: string, name: string, admin: boolean): Secret {
    return {
      metadata: { name: keyObject(id), labels: { [CLUSTER_LABEL.apiKey]: 'true', [CLUSTER_LABEL.tenant]: tenantId.replace(/_/g, '-') } },
      type: 'Opaque',
      data: { id: b64(id), tenantId: b64(tenantId), hash: b64(hashKey(secret)), prefix: b64(secret.slice(0, 10)), name: b64(name), admin: b64(String(admin)) },
    } as Secret;
  }

  async revokeKey(id: string): Promise<void> {
    const k = this.records().find((r) => r.id === id);
    if (!k || k.revokedAt) throw notFound('key', id);
    const patched = await this.client.patch<Secret>(SECRETS, this.namespace, keyObject(id),
      { data: { revokedAt: b64(new Date().toISOString()) } }, 'merge');
    this.keys.observe(patched);
  }

  authenticate(secret: string): Principal {
    const hash = hashKey(secret);
    const k = this.records().find((r) => r.hash === hash);
    if (!k || k.revokedAt) throw unknownKey();
    const tenant = this.findTenant(k.tenantId);
    return { tenantId: k.tenantId, tenantName: tenant?.name ?? k.tenantId, keyId: k.id, admin: k.admin };
  }
}
