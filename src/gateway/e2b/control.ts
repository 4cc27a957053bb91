/**
 * The E2B control API (E2B's published spec, github.com/e2b-dev/E2B `spec/`), mounted at `/e2b` and on `api.<domain>`.
 * Translation only (docs/architecture.md, rule “legacy in quarantine”): one handler per route of src/api/e2b.ts, each receiving its
 * route's validated body and query, calling the backend, and shaping E2B's answer with the exact
 * status codes the SDKs check (Python checks them exactly).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentboxError, notFound } from '../../api/errors.ts';
import { e2bApi, V1_DEFAULT_TIMEOUT_S, type E2bApi } from '../../api/e2b.ts';
import { DEFAULT_TIMEOUT_SECONDS, SandboxId } from '../../api/native.ts';
import { routeList, type BodyOf, type PathParams, type QueryOf, type ResponseOf, type Route, type RouteDef } from '../../api/route.ts';
import type { OnTimeoutAction, Principal, SandboxBackend } from '../../server/backend.ts';
import { handlerFor } from '../handlers.ts';
import { parseMetadataFilter } from '../metadata-filter.ts';
import { parseBody, parseQuery } from '../request.ts';
import { sendJson } from '../respond.ts';
import { Router } from '../router.ts';
import { legacyControl } from './legacy.ts';
import { e2bEventsApi, eventHandlers } from './events.ts';
import type { E2bEventsApi } from '../../api/e2b-events.ts';
import { e2bErrorBody } from './errors.ts';
import { egressPolicy } from './network.ts';
import { volumeMountsOf } from './volumes.ts';
import { listedSandbox, metricPoint, sandboxDetail, sandboxObject, snapshotInfo } from './views.ts';

const MAX_JSON = 1024 * 1024;

export interface ControlDeps {
  backend: SandboxBackend;
  now: () => number;
}

export interface ControlContext<D extends RouteDef> {
  req: IncomingMessage;
  principal: Principal;
  /** Path parameters; an `id` is already known to be shaped like a sandbox id. */
  params: PathParams<D['path']>;
  query: QueryOf<D>;
  body: BodyOf<D>;
}

/** A handler's answer; status defaults to the route's, no body = an empty answer. */
export interface ControlReply<B> { status?: number; body?: B; headers?: Record<string, string> }
export type ControlHandler<D extends RouteDef> = (c: ControlContext<D>) => Promise<ControlReply<ResponseOf<D>> | void>;
export type ControlHandlers<T extends Record<string, RouteDef>> = { [K in keyof T]: ControlHandler<T[K]> };

/** `base`, `base:default`, `team/base:tag` → the agentbox template name. */
export function templateName(templateID: string): string {
  const noTag = templateID.split(':')[0]!;
  return noTag.slice(noTag.lastIndexOf('/') + 1);
}

/** v1 and v2 share a handler: what it reads of the context is the same for both. */
type Create = (c: { principal: Principal; body: BodyOf<E2bApi['createSandbox']> }) => Promise<ControlReply<ResponseOf<E2bApi['createSandbox']>>>;
type Connect = (c: { principal: Principal; params: { id: string }; body: BodyOf<E2bApi['connect']> }) => Promise<ControlReply<ResponseOf<E2bApi['connect']>>>;

/**
 * agentbox keeps no metric history: the answer is one sample taken now, standing for the
 * sandbox's life so far. It is in a window `[start, end]` (Unix seconds) that reaches into that
 * life: not one that ends before the sandbox started or starts after now.
 */
export function sampleInWindow(w: { start?: number | undefined; end?: number | undefined }, startedMs: number, nowMs: number): boolean {
  return (w.start === undefined || w.start <= Math.floor(nowMs / 1000)) && (w.end === undefined || w.end >= Math.floor(startedMs / 1000));
}

/** The cursor of the next page, if there is one. */
const nextPage = (next: string | undefined): Record<string, string> => (next ? { 'X-Next-Token': next } : {});

export function controlHandlers(d: ControlDeps): ControlHandlers<E2bApi> {
  const s = d.backend.sandboxes;

  const create = (v2: boolean): Create => async ({ principal, body: b }) => {
    // Refused rather than ignored: the SDK would go on to run `mcp-gateway` in a sandbox without one.
    if (b.mcp !== undefined && b.mcp !== null) {
      throw new AgentboxError('not_supported', "the MCP gateway (create's `mcp` option) is not supported by agentbox; run your MCP servers in the sandbox yourself");
    }
    // autoPauseMemory: false (JS ≥2.31) pauses keeping files only.
    const onTimeout: OnTimeoutAction = !b.autoPause ? 'kill' : b.autoPauseMemory === false ? 'pause_filesystem' : 'pause';
    const network = egressPolicy(b.network, b.allow_internet_access);
    const common = {
      timeoutSeconds: b.timeout ?? (v2 ? DEFAULT_TIMEOUT_SECONDS : V1_DEFAULT_TIMEOUT_S),
      onTimeout,
      // E2B ignores autoResume without autoPause; agentbox would refuse it, so drop it here.
      autoResume: onTimeout !== 'kill' && (b.autoResume?.enabled ?? false),
      ...(b.metadata ? { metadata: b.metadata } : {}),
      ...(b.envVars ? { env: b.envVars } : {}),
    };
    // A snapshot id or name is a template to E2B (`Sandbox.create(snapshotID)`).
    const snapshot = s.findSnapshot(principal, b.templateID.replace(/:default$/, ''));
    const detail = snapshot
      ? await s.createFromSnapshot(principal, snapshot.id, common)
      : await s.create(principal, { template: templateName(b.templateID), ...common, ...(network ? { network } : {}), ...volumeMountsOf(b) });
    // E2B: private ports need the token returned here (e2b-traffic-access-token).
    const traffic = b.network?.allowPublicTraffic === false ? s.makeTrafficPrivate(principal, detail.id) : undefined;
    return { body: sandboxObject(detail, traffic) };
  };

  const connect = (v2: boolean): Connect => async ({ principal, params, body: b }) => {
    if (!v2 && b.timeout === undefined) throw new AgentboxError('invalid_argument', 'body: timeout is required');
    // v2 `memory: false` is E2B's reboot: resume from files, not from the kept memory.
    const { detail, resumed } = await s.connect(principal, params.id, b.timeout ?? DEFAULT_TIMEOUT_SECONDS, b.memory === false ? { memory: false } : {});
    return { status: resumed ? 201 : 200, body: sandboxObject(detail, s.trafficToken(principal, detail.id)) };
  };

  return {
    createSandboxV1: create(false),
    createSandbox: create(true),
    async listSandboxes({ principal, query: q }) {
      const metadata = parseMetadataFilter(q.metadata);
      const page = s.list(principal, {
        states: q.state, limit: q.limit, order: q.order,
        ...(metadata ? { metadata } : {}), ...(q.nextToken ? { after: q.nextToken } : {}), ...(q.template ? { template: templateName(q.template) } : {}),
        ...(q.startedAfter !== undefined ? { startedAfter: q.startedAfter } : {}),
      });
      return { body: page.items.map(listedSandbox), headers: nextPage(page.next) };
    },
    async listSandboxesV1({ principal, query: q }) {
      const metadata = parseMetadataFilter(q.metadata);
      const page = s.list(principal, {
        states: ['running'], limit: 1000, order: q.order,
        ...(metadata ? { metadata } : {}), ...(q.nextToken ? { after: q.nextToken } : {}), ...(q.template ? { template: templateName(q.template) } : {}),
      });
      return { body: page.items.map(listedSandbox), headers: nextPage(page.next) };
    },
    connectV1: connect(false),
    connect: connect(true),
    async getSandbox({ principal, params }) {
      return { body: sandboxDetail(s.get(principal, params.id), s.trafficToken(principal, params.id)) };
    },
    async killSandbox({ principal, params }) {
      await s.kill(principal, params.id);
    },
    async refresh({ principal, params, body }) {
      if (s.get(principal, params.id).state === 'paused') throw new AgentboxError('not_found', `sandbox '${params.id}' is paused`);
      await s.connect(principal, params.id, body.duration || V1_DEFAULT_TIMEOUT_S);
    },
    async pause({ principal, params, body }) {
      // JS ≥2.31 sends `{memory}`; older SDKs no body (= keep memory).
      await s.pause(principal, params.id, body.memory === false ? { memory: false } : {});
    },
    async metrics({ principal, params, query }) {
      const detail = s.get(principal, params.id);
      const now = d.now();
      if (detail.state !== 'running' || !sampleInWindow(query, Date.parse(detail.createdAt), now)) return { body: [] };
      return { body: [metricPoint(await s.usage(principal, params.id), detail, now)] };
    },
    async fork({ principal, params: { id }, body: b }) {
      s.get(principal, id);
      // Over forksPerCall the whole call is refused (429) before any copy is made; each copy is
      // then checked against the running limits like a create.
      s.checkForkCount(principal, b.count);
      // A fork of a sandbox with private ports has private ports too (with its own token).
      const isPrivate = s.trafficToken(principal, id) !== undefined;
      const out: NonNullable<ResponseOf<E2bApi['fork']>> = [];
      // Sequential: each fork checkpoints the source, and two checkpoints of one sandbox cannot overlap.
      for (let i = 0; i < b.count; i++) {
        try {
          const fork = await s.fork(principal, id, b.timeout ? { timeoutSeconds: b.timeout } : {});
          out.push({ sandbox: sandboxObject(fork, isPrivate ? s.makeTrafficPrivate(principal, fork.id) : undefined) });
        } catch (err) {
          out.push({ error: e2bErrorBody(err) });
        }
      }
      return { body: out };
    },
    async createSnapshot({ principal, params, body }) {
      return { body: snapshotInfo(await s.snapshot(principal, params.id, body.name ?? undefined)) };
    },
    async listSnapshots({ principal, query: q }) {
      const page = s.listSnapshots(principal, {
        limit: q.limit, ...(q.nextToken ? { after: q.nextToken } : {}),
        ...(q.sandboxID ? { sandboxId: q.sandboxID } : {}), ...(q.name ? { name: q.name } : {}),
      });
      return { body: page.items.map(snapshotInfo), headers: nextPage(page.next) };
    },
    async deleteSnapshot({ principal, params }) {
      // The SDK's deleteSnapshot(id); agentbox's own templates are not deleted through E2B's API.
      await s.deleteSnapshot(principal, params.template.replace(/:default$/, ''));
    },
    async setNetwork({ principal, params, body }) {
      // The update replaces everything; an empty body clears the rules (back to allow-all).
      await s.setNetwork(principal, params.id, egressPolicy(body, true) ?? { defaultAction: 'allow', allow: [], deny: [] });
    },
    ...legacyControl(d.backend),
  };
}

/** E2B words a refused query value by itself (`limit must be …`), without the field path. */
const queryError = (e: { issues: { message: string }[] }) => new AgentboxError('invalid_argument', e.issues[0]?.message ?? 'invalid query');

export interface ControlApi<T extends Record<string, RouteDef> = E2bApi & E2bEventsApi> {
  router: Router<Route>;
  handlers: ControlHandlers<T>;
}

export function controlApi(d: ControlDeps): ControlApi {
  return { router: new Router<Route>([...routeList(e2bApi), ...routeList(e2bEventsApi)]), handlers: { ...controlHandlers(d), ...eventHandlers(d.backend) } };
}

/** Runs the control route for a request; false when no route matches the path. */
export async function handleControl<T extends Record<string, RouteDef>>(api: ControlApi<T>, req: IncomingMessage, res: ServerResponse, path: string, principal: () => Principal): Promise<boolean> {
  const u = new URL(path, 'http://x');
  const m = api.router.match(req.method ?? 'GET', u.pathname);
  if (!m) return false;
  if ('allowed' in m) throw new AgentboxError('invalid_argument', `${req.method} is not allowed on ${u.pathname}; use ${m.allowed.join(' or ')}`);
  const p = principal();
  // E2B ids are [a-z0-9]{20}; anything else cannot name a sandbox.
  if (m.params.id !== undefined && !SandboxId.safeParse(m.params.id).success) throw notFound('sandbox', m.params.id);
  const query = m.route.query ? parseQuery(m.route.query, u.searchParams, { firstOfRepeated: true, toError: queryError }) : {};
  const body = m.route.body ? await parseBody(req, m.route.body, MAX_JSON) : undefined;
  const ctx = { req, principal: p, params: m.params, query, body };
  const reply = (await handlerFor<typeof ctx, Promise<ControlReply<unknown> | void>>(api.handlers, m.route.id)(ctx)) ?? {};
  const status = reply.status ?? m.route.status;
  if (reply.body === undefined) {
    res.writeHead(status, reply.headers ?? {});
    res.end();
  } else sendJson(res, status, reply.body, reply.headers);
  return true;
}
