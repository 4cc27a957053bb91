// A small typed REST client over the kubeconfig handling of @kubernetes/client-node.
// Why not the generated API classes: the reconcilers need per-call patch types (merge, JSON,
// server-side apply), subresources, preconditions and raw watch streams for arbitrary kinds,
// which the generated classes expose unevenly; one request function keeps every call the same
// shape and lets errors be translated once, here.
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { AgentboxError, type ErrorCode } from '../api/errors.ts';
import type { KubeObject } from '../api/k8s/types.ts';

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
}

export const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };
export const SERVICES: ResourceType = { group: '', version: 'v1', plural: 'services', kind: 'Service' };
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
export const PVCS: ResourceType = { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim' };
export const NODES: ResourceType = { group: '', version: 'v1', plural: 'nodes', kind: 'Node' };
export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };
export const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event' };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };
export const NETWORK_POLICIES: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy' };
export const CRDS: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition' };

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

const REQUEST_TIMEOUT_MS = 30_000;

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** A failed API call; `status` is the HTTP status, `reason` the Status reason (Conflict…). */
export class KubeApiError extends AgentboxError {
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(codeFor(status), message, { details: { status, reason } });
    this.name = 'KubeApiError';
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 422) return 'invalid_argument';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 429) return 'resource_exhausted';
  if (status >= 500) return 'unavailable';
  return 'internal';
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';

export interface ListOptions { labelSelector?: string; fieldSelector?: string; resourceVersion?: string; limit?: number }
export interface ObjectList<T> { items: T[]; metadata: { resourceVersion: string } }
export interface WatchEvent<T> { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T }
export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export class KubeClient {
  private readonly agent: https.Agent;
  private readonly base: URL;

  private constructor(private readonly tls: https.RequestOptions, server: string, readonly fieldManager: string) {
    this.base = new URL(server);
    // Keep-alive with a generous socket pool: 50 concurrent claims must not queue on sockets.
    this.agent = new https.Agent({ ...tls, keepAlive: true, maxSockets: 64 } as https.AgentOptions);
  }

  static async create(kc: KubeConfig, fieldManager = 'agentbox-operator'): Promise<KubeClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new AgentboxError('invalid_argument', 'kubeconfig has no current cluster; set a context');
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    return new KubeClient(opts, cluster.server, fieldManager);
  }

  /** Loads $KUBECONFIG / ~/.kube/config, or the in-cluster service account. */
  static async fromFile(path?: string, fieldManager?: string): Promise<KubeClient> {
    const kc = new KubeConfig();
    if (path) kc.loadFromFile(path); else kc.loadFromDefault();
    return KubeClient.create(kc, fieldManager);
  }

  close(): void {
    this.agent.destroy();
  }

  path(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
    const prefix = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
    let p = prefix;
    if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${rt.plural}`;
    if (name) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  /** One API call; resolves to the parsed JSON body, rejects with KubeApiError. */
  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = https.request(url, {
        ...this.tls, agent: this.agent, method,
        headers: {
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown = undefined;
          try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
          if (status >= 200 && status < 300) { resolve(parsed as T); return; }
          const st = (parsed ?? {}) as { reason?: string; message?: string };
          reject(new KubeApiError(status, st.reason ?? 'Unknown', `${method} ${url.pathname}: ${st.message ?? text.slice(0, 300)}`));
        });
      });
      req.on('error', (e) => reject(new AgentboxError('unavailable', `kube-apiserver ${this.base.host}: ${e.message}`, { cause: e })));
      // A request never hangs a reconcile worker: the queue retries with backoff instead.
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new AgentboxError('deadline_exceeded', `no response in ${REQUEST_TIMEOUT_MS} ms`)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  get<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', this.path(rt, namespace, name));
  }

  async getOrNull<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string): Promise<T | null> {
    try { return await this.get<T>(rt, namespace, name); } catch (e) { if (isNotFound(e)) return null; throw e; }
  }

  list<T extends KubeObject>(rt: ResourceType, namespace?: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', this.path(rt, namespace) + query({ ...opts }));
  }

  create<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, obj: T): Promise<T> {
    const body = { apiVersion: apiVersionOf(rt), kind: rt.kind, ...obj };
    return this.request<T>('POST', this.path(rt, namespace) + query({ fieldManager: this.fieldManager }), body);
  }

  /** PUT; carries metadata.resourceVersion, so it is an optimistic-lock write. */
  update<T extends KubeObject>(rt: ResourceType, obj: T, subresource?: string): Promise<T> {
    const body = { apiVersion: apiVersionOf(rt), kind: rt.kind, ...obj };
    return this.request<T>('PUT', this.path(rt, obj.metadata.namespace, obj.metadata.name, subresource)
      + query({ fieldManager: this.fieldManager }), body);
  }

  patch<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, patch: unknown,
    type: PatchType = 'merge', subresource?: string): Promise<T> {
    const q = query({ fieldManager: this.fieldManager, ...(type === 'apply' ? { force: 'true' } : {}) });
    return this.request<T>('PATCH', this.path(rt, namespace, name, subresource) + q, patch, PATCH_CONTENT_TYPE[type]);
  }

  async delete(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.request('DELETE', this.path(rt, namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', ...opts });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Streams watch events from `resourceVersion` until the server closes the stream, `signal`
   * aborts, or an ERROR event arrives (410 Gone is reported as an ERROR event to the caller).
   */
  watch<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, resourceVersion: string,
    onEvent: (ev: WatchEvent<T>) => void, signal: AbortSignal, opts: ListOptions = {}): Promise<void> {
    const url = new URL(this.path(rt, namespace) + query({
      ...opts, watch: 'true', resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '300',
    }), this.base);
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) { resolve(); return; }
      const req = https.request(url, { ...this.tls, agent: this.agent, method: 'GET', headers: { Accept: 'application/json' } }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          reject(new KubeApiError(res.statusCode ?? 0, 'WatchFailed', `watch ${url.pathname}: HTTP ${res.statusCode}`));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try { onEvent(JSON.parse(line) as WatchEvent<T>); } catch (e) { req.destroy(e as Error); }
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
        res.on('close', () => resolve());
      });
      const abort = () => { req.destroy(); resolve(); };
      signal.addEventListener('abort', abort, { once: true });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(new AgentboxError('unavailable', `watch ${url.pathname}: ${e.message}`, { cause: e }))));
      req.on('close', () => signal.removeEventListener('abort', abort));
      req.end();
    });
  }
}

function query(params: { [k: string]: string | number | undefined }): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
