/**
 * OpenSandbox's lifecycle routes (src/api/opensandbox.ts), one handler each, translated onto the
 * backend (docs/architecture.md, rule “façades translate; the backend decides”). What each field
 * becomes is in docs/opensandbox.md.
 */
import type { IncomingMessage } from 'node:http';
import { AgentboxError, invalidArgument } from '../../api/errors.ts';
import { MAX_TIMEOUT_SECONDS } from '../../api/native.ts';
import { KEEP_ALIVE_ENTRYPOINT, POOL_REF_EXTENSION, type CreateSandboxRequest, type OpenSandboxApi } from '../../api/opensandbox.ts';
import type { BodyOf, PathParams, QueryOf, ResponseOf, RouteDef } from '../../api/route.ts';
import type { Principal, SandboxBackend, SandboxDetail } from '../../server/backend.ts';
import { parseMetadataFilter } from '../metadata-filter.ts';
import { egressOf, recordStates, resourcesOf, templateForImage } from './translate.ts';
import { createdView, recordedFacts, RESERVED_PREFIX, sandboxView } from './views.ts';

export interface LifecycleDeps {
  backend: SandboxBackend;
  now: () => number;
  /** Where sandbox ports are served, as the client reached this server (`/opensandbox`). */
  proxyPrefix: string;
}

export interface LifecycleContext<D extends RouteDef> {
  req: IncomingMessage;
  principal: Principal;
  /** The key the request authenticated with (handed back in endpoint headers). */
  apiKey: string;
  params: PathParams<D['path']>;
  query: QueryOf<D>;
  body: BodyOf<D>;
}

/** A handler's answer; no body = an empty answer with the route's status. */
export interface LifecycleReply<B> { body?: B }
export type LifecycleHandlers = { [K in keyof OpenSandboxApi]: (c: LifecycleContext<OpenSandboxApi[K]>) => Promise<LifecycleReply<ResponseOf<OpenSandboxApi[K]>> | void> };

/** The backend's list is paged by cursor; OpenSandbox pages by number, so the pages are walked. */
const LIST_BATCH = 1000;

const sameArgv = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** OpenSandbox's own create validation (server `api/schema.py`), worded for the caller. */
function checkCreate(b: CreateSandboxRequest, poolRef: string | undefined): void {
  if (poolRef !== undefined) {
    if (b.snapshotId) throw invalidArgument('snapshotId cannot be combined with extensions.poolRef: a pooled sandbox starts from its pool');
    // Refused rather than dropped: a warm member's egress rules were fixed when it started.
    if (b.networkPolicy) throw invalidArgument('networkPolicy cannot be combined with extensions.poolRef: a pooled sandbox has its pool\'s network');
    return;
  }
  if (!b.image === !b.snapshotId) throw invalidArgument('give exactly one of image and snapshotId');
  if (b.image && !b.entrypoint) throw invalidArgument('entrypoint is required with image');
  if (!b.resourceLimits) throw invalidArgument('resourceLimits is required (e.g. {"cpu": "1", "memory": "2Gi"})');
}

function callerMetadata(m: Record<string, string> | null | undefined): Record<string, string> {
  const reserved = Object.keys(m ?? {}).find((k) => k.startsWith(RESERVED_PREFIX));
  if (reserved) throw invalidArgument(`metadata key '${reserved}': the ${RESERVED_PREFIX} prefix is reserved`);
  return m ?? {};
}

export function lifecycleHandlers(d: LifecycleDeps): LifecycleHandlers {
  const s = d.backend.sandboxes;

  /**
   * Starts a non-default entrypoint in the background, as OpenSandbox's bootstrap does after
   * execd is up. The default (`tail -f /dev/null`) only keeps a container alive, which agentbox's
   * guest does anyway, so it is not run.
   */
  async function startEntrypoint(p: Principal, id: string, entrypoint: string[], env: Record<string, string>): Promise<void> {
    if (sameArgv(entrypoint, KEEP_ALIVE_ENTRYPOINT)) return;
    const r = await s.exec(p, id, { cmd: ['/bin/sh', '-c', 'nohup "$@" >/dev/null 2>&1 </dev/null &', 'entrypoint', ...entrypoint], env, timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw new AgentboxError('internal', `the entrypoint could not be started (exit ${r.exitCode}): ${r.stderr.trim()}`);
  }

  async function create(p: Principal, b: CreateSandboxRequest): Promise<SandboxDetail> {
    const poolRef = b.extensions?.[POOL_REF_EXTENSION];
    checkCreate(b, poolRef);
    if (b.volumes?.length) throw new AgentboxError('not_supported', 'volumes are not supported by agentbox; copy files in through execd or build them into a template');
    const entrypoint = b.entrypoint ?? KEEP_ALIVE_ENTRYPOINT;
    const env = Object.fromEntries(Object.entries(b.env ?? {}).filter((e): e is [string, string] => e[1] !== null));
    const common = {
      // No timeout means "until deleted" on OpenSandbox; agentbox's ceiling for one timeout is 24 h.
      timeoutSeconds: b.timeout ?? MAX_TIMEOUT_SECONDS,
      metadata: { ...callerMetadata(b.metadata), ...recordedFacts({ ...(b.image ? { image: b.image.uri } : {}), entrypoint, ...(poolRef ? { poolRef } : {}) }) },
      env,
    };
    let detail: SandboxDetail;
    if (b.snapshotId) detail = await s.createFromSnapshot(p, b.snapshotId, common);
    else if (poolRef !== undefined) {
      // A pool is named by its template; resources and network are the pool's, so the create claims a warm member.
      await d.backend.pools.get(p, poolRef);
      detail = await s.create(p, { template: poolRef, ...common });
    } else {
      detail = await s.create(p, {
        template: templateForImage(b.image!.uri), ...common, ...resourcesOf(b.resourceLimits ?? {}),
        ...(b.networkPolicy ? { network: egressOf(b.networkPolicy) } : {}),
      });
    }
    try {
      await startEntrypoint(p, detail.id, entrypoint, env);
    } catch (err) {
      // Undo the half-made sandbox and report why the create failed, not the cleanup.
      await s.kill(p, detail.id).catch(() => {});
      throw err;
    }
    return detail;
  }

  function listAll(p: Principal, f: { states?: ReturnType<typeof recordStates>; metadata?: Record<string, string> }): SandboxDetail[] {
    const all: SandboxDetail[] = [];
    let after: string | undefined;
    do {
      const page = s.list(p, { ...f, limit: LIST_BATCH, order: 'asc', ...(after ? { after } : {}) });
      all.push(...page.items);
      after = page.next;
    } while (after);
    return all;
  }

  return {
    async createSandbox({ principal, body }) {
      return { body: createdView(await create(principal, body)) };
    },
    async listSandboxes({ principal, query: q }) {
      const metadata = parseMetadataFilter(q.metadata);
      const states = q.state?.length ? recordStates(q.state) : undefined;
      const all = states?.length === 0 ? [] : listAll(principal, { ...(states ? { states } : {}), ...(metadata ? { metadata } : {}) });
      const start = (q.page - 1) * q.pageSize;
      const totalPages = Math.ceil(all.length / q.pageSize);
      return {
        body: {
          items: all.slice(start, start + q.pageSize).map(sandboxView),
          pagination: { page: q.page, pageSize: q.pageSize, totalItems: all.length, totalPages, hasNextPage: q.page < totalPages },
        },
      };
    },
    async getSandbox({ principal, params }) {
      return { body: sandboxView(s.get(principal, params.id)) };
    },
    async deleteSandbox({ principal, params }) {
      await s.kill(principal, params.id);
    },
    async pause({ principal, params }) {
      await s.pause(principal, params.id);
    },
    async resume({ principal, params }) {
      await s.resume(principal, params.id);
    },
    async renewExpiration({ principal, params, body }) {
      const now = d.now();
      const at = Date.parse(body.expiresAt);
      if (at <= now) throw invalidArgument(`expiresAt ${body.expiresAt} is not in the future`);
      const seconds = Math.ceil((at - now) / 1000);
      if (seconds > MAX_TIMEOUT_SECONDS) throw invalidArgument(`expiresAt ${body.expiresAt} is more than ${MAX_TIMEOUT_SECONDS / 3600} h away, agentbox's ceiling for one timeout`);
      const detail = await s.setTimeout(principal, params.id, seconds);
      // A paused sandbox's timer restarts at its resume; it then runs for the asked-for time.
      return { body: { expiresAt: detail.expiresAt ?? new Date(now + seconds * 1000).toISOString() } };
    },
    async endpoint({ req, principal, apiKey, params, query }) {
      const port = Number(params.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`port ${params.port} is out of range 1-65535`);
      if (query.expires !== undefined) throw new AgentboxError('not_supported', 'signed endpoints (expires=) are not supported; every endpoint is reached through the server with an API key');
      s.get(principal, params.id);
      // Every port goes through the server's port proxy, whatever use_server_proxy says (docs/opensandbox.md).
      const host = req.headers.host ?? '127.0.0.1';
      return { body: { endpoint: `${host}${d.proxyPrefix}/sandboxes/${params.id}/proxy/${port}`, headers: { 'OPEN-SANDBOX-API-KEY': apiKey } } };
    },
    async metricsEvent() {
      // SDK 0.1.11 reports its creates here, fire-and-forget; agentbox measures creates itself (/metrics).
    },
  };
}
