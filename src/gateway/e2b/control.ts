/**
 * The E2B control API (E2B's published spec, github.com/e2b-dev/E2B `spec/`), mounted at `/e2b` and on `api.<domain>`.
 * Translation only (STYLE #11): every handler parses E2B's body, calls SandboxService, and shapes
 * E2B's answer with the exact status codes the SDKs check (Python checks them exactly).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { AgentboxError, notFound } from '../../api/errors.ts';
import { DEFAULT_TIMEOUT_SECONDS, SandboxId } from '../../api/native.ts';
import type { Principal } from '../../server/auth-store.ts';
import type { RecordState } from '../../server/sandbox-store.ts';
import type { SandboxDetail, SandboxService } from '../../server/service.ts';
import { readJson } from '../body.ts';
import { fromZod } from '../errors.ts';
import { parseMetadataFilter } from '../native.ts';
import { Router } from '../router.ts';
import { sendJson } from './errors.ts';
import { egressPolicy } from './network.ts';
import { listedSandbox, metricPoint, sandboxDetail, sandboxObject, snapshotInfo } from './views.ts';
import * as W from './wire.ts';
import type { OnTimeoutAction } from '../../server/sandbox-store.ts';

/** E2B's v1 create defaults to 15 s when the body has no timeout (v2: 300 s). */
const V1_DEFAULT_TIMEOUT_S = 15;
const MAX_JSON = 1024 * 1024;

export interface ControlDeps {
  service: SandboxService;
  now: () => number;
  /** Called when timers change so the lifecycle loop re-plans its sleep. */
  timersChanged: () => void;
  /** Called after a sandbox was paused, resumed or checkpointed (its connections are stale). */
  checkpointed: (id: string) => void;
}

interface Ctx {
  req: IncomingMessage;
  principal: Principal;
  id: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

interface Reply { status: number; body?: unknown; headers?: Record<string, string> }
type Route = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; run: (c: Ctx) => Promise<Reply> };

async function body<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await readJson(req, MAX_JSON));
  if (!parsed.success) throw fromZod(parsed.error, 'body');
  return parsed.data;
}

/** `base`, `base:default`, `team/base:tag` → the agentbox template name. */
function templateName(templateID: string): string {
  const noTag = templateID.split(':')[0]!;
  return noTag.slice(noTag.lastIndexOf('/') + 1);
}

function states(raw: string | null): RecordState[] {
  if (!raw) return ['running', 'paused'];
  const out = raw.split(',').filter(Boolean);
  for (const s of out) if (s !== 'running' && s !== 'paused') throw new AgentboxError('invalid_argument', `state '${s}' is not running or paused`);
  return out as RecordState[];
}

function limitOf(raw: string | null): number {
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new AgentboxError('invalid_argument', 'limit must be an integer from 1 to 100');
  return n;
}

export function controlRoutes(d: ControlDeps): Router<Route> {
  const s = d.service;

  const create = (v2: boolean) => async ({ req, principal }: Ctx): Promise<Reply> => {
    const b = await body(req, W.NewSandbox);
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
      : await s.create(principal, { template: templateName(b.templateID), ...common, ...(network ? { network } : {}) });
    d.timersChanged();
    // E2B: private ports need the token returned here (e2b-traffic-access-token).
    const traffic = b.network?.allowPublicTraffic === false ? s.makeTrafficPrivate(principal, detail.record.id) : undefined;
    return { status: 201, body: sandboxObject(detail, traffic) };
  };

  /** The Sandbox object of E2B's create/connect/resume answers, with its traffic token if any. */
  const sandboxReply = (principal: Principal, detail: SandboxDetail) => sandboxObject(detail, s.trafficToken(principal, detail.record.id));

  const connect = (v2: boolean) => async ({ req, principal, id }: Ctx): Promise<Reply> => {
    const b = await body(req, W.ConnectBody);
    if (!v2 && b.timeout === undefined) throw new AgentboxError('invalid_argument', 'body: timeout is required');
    // v2 `memory: false` is E2B's reboot: resume from files, not from the kept memory.
    const { detail, resumed } = await s.connect(principal, id, b.timeout ?? DEFAULT_TIMEOUT_SECONDS, b.memory === false ? { memory: false } : {});
    if (resumed) d.checkpointed(id);
    d.timersChanged();
    return { status: resumed ? 201 : 200, body: sandboxReply(principal, detail) };
  };

  const list = (legacy: boolean) => async ({ principal, query }: Ctx): Promise<Reply> => {
    const metadata = parseMetadataFilter(query.getAll('metadata'));
    const next = query.get('nextToken');
    const order = query.get('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new AgentboxError('invalid_argument', 'order must be asc or desc');
    const page = s.list(principal, {
      states: legacy ? ['running'] : states(query.get('state')), limit: legacy ? 1000 : limitOf(query.get('limit')), order,
      ...(metadata ? { metadata } : {}), ...(next ? { after: next } : {}),
      ...(query.get('template') ? { template: templateName(query.get('template')!) } : {}),
    });
    return { status: 200, body: page.items.map(listedSandbox), headers: page.next ? { 'X-Next-Token': page.next } : {} };
  };

  const routes: Route[] = [
    { method: 'POST', path: '/sandboxes', run: create(false) },
    { method: 'POST', path: '/v2/sandboxes', run: create(true) },
    { method: 'GET', path: '/v2/sandboxes', run: list(false) },
    { method: 'GET', path: '/sandboxes', run: list(true) },
    { method: 'POST', path: '/sandboxes/{id}/connect', run: connect(false) },
    { method: 'POST', path: '/v2/sandboxes/{id}/connect', run: connect(true) },
    { method: 'GET', path: '/sandboxes/{id}', run: async ({ principal, id }) => ({ status: 200, body: sandboxDetail(s.get(principal, id), s.trafficToken(principal, id)) }) },
    { method: 'DELETE', path: '/sandboxes/{id}', run: async ({ principal, id }) => { await s.kill(principal, id); return { status: 204 }; } },
    {
      // Used by SDK 2.0–2.5 to connect: 404 on a paused sandbox makes them call /resume next.
      method: 'POST', path: '/sandboxes/{id}/timeout', run: async ({ req, principal, id }) => {
        const b = await body(req, W.TimeoutBody);
        if (s.get(principal, id).record.state === 'paused') throw new AgentboxError('not_found', `sandbox '${id}' is paused; resume it (connect) first`);
        s.setTimeout(principal, id, b.timeout);
        d.timersChanged();
        return { status: 204 };
      },
    },
    {
      method: 'POST', path: '/sandboxes/{id}/refreshes', run: async ({ req, principal, id }) => {
        const b = await body(req, W.RefreshBody);
        if (s.get(principal, id).record.state === 'paused') throw new AgentboxError('not_found', `sandbox '${id}' is paused`);
        await s.connect(principal, id, b.duration || V1_DEFAULT_TIMEOUT_S);
        d.timersChanged();
        return { status: 204 };
      },
    },
    {
      // SDK 2.0–2.5 connect. `autoPause` in the body is ignored on purpose: the policy chosen at
      // create survives a resume (E2B#875).
      method: 'POST', path: '/sandboxes/{id}/resume', run: async ({ req, principal, id }) => {
        const b = await body(req, W.ResumeBody);
        if (s.get(principal, id).record.state !== 'paused') throw new AgentboxError('conflict', `sandbox '${id}' is already running`);
        const { detail } = await s.connect(principal, id, b.timeout ?? V1_DEFAULT_TIMEOUT_S);
        d.checkpointed(id);
        d.timersChanged();
        return { status: 201, body: sandboxReply(principal, detail) };
      },
    },
    {
      // JS ≥2.31 sends `{memory}`; older SDKs no body (= keep memory).
      method: 'POST', path: '/sandboxes/{id}/pause', run: async ({ req, principal, id }) => {
        const b = await body(req, W.PauseBody);
        await s.pause(principal, id, b.memory === false ? { memory: false } : {});
        d.checkpointed(id);
        return { status: 204 };
      },
    },
    {
      method: 'GET', path: '/sandboxes/{id}/metrics', run: async ({ principal, id }) => {
        const detail = s.get(principal, id);
        if (detail.record.state !== 'running') return { status: 200, body: [] };
        return { status: 200, body: [metricPoint(await s.usage(principal, id), detail, d.now())] };
      },
    },
    {
      method: 'POST', path: '/sandboxes/{id}/fork', run: async ({ req, principal, id }) => {
        const b = await body(req, W.ForkBody);
        s.get(principal, id);
        // Over forksPerCall the whole call is refused (429) before any copy is made; each copy is
        // then checked against the running limits like a create.
        s.checkForkCount(principal, b.count);
        // A fork of a sandbox with private ports has private ports too (with its own token).
        const isPrivate = s.trafficToken(principal, id) !== undefined;
        const out: unknown[] = [];
        // Sequential: each fork checkpoints the source, and two checkpoints of one sandbox cannot overlap.
        for (let i = 0; i < b.count; i++) {
          try {
            const fork = await s.fork(principal, id, b.timeout ? { timeoutSeconds: b.timeout } : {});
            out.push({ sandbox: sandboxObject(fork, isPrivate ? s.makeTrafficPrivate(principal, fork.record.id) : undefined) });
            d.checkpointed(id);
          } catch (err) {
            const e = err instanceof AgentboxError ? err : new AgentboxError('internal', String(err));
            out.push({ error: { code: e.httpStatus, message: e.message } });
          }
        }
        d.timersChanged();
        return { status: 201, body: out };
      },
    },
    {
      method: 'POST', path: '/sandboxes/{id}/snapshots', run: async ({ req, principal, id }) => {
        const b = await body(req, W.SnapshotBody);
        const snap = await s.snapshot(principal, id, b.name ?? undefined);
        d.checkpointed(id);
        return { status: 201, body: snapshotInfo(snap) };
      },
    },
    {
      method: 'GET', path: '/snapshots', run: async ({ principal, query }) => {
        const next = query.get('nextToken');
        const page = s.listSnapshots(principal, {
          limit: limitOf(query.get('limit')), ...(next ? { after: next } : {}),
          ...(query.get('sandboxID') ? { sandboxId: query.get('sandboxID')! } : {}), ...(query.get('name') ? { name: query.get('name')! } : {}),
        });
        const headers: Record<string, string> = page.next ? { 'X-Next-Token': page.next } : {};
        return { status: 200, body: page.records.map(snapshotInfo), headers };
      },
    },
    {
      // The SDK's deleteSnapshot(id); agentbox's own templates are not deleted through E2B's API.
      method: 'DELETE', path: '/templates/{template}', run: async ({ principal, params }) => {
        await s.deleteSnapshot(principal, params.template!.replace(/:default$/, ''));
        return { status: 204 };
      },
    },
    {
      method: 'PUT', path: '/sandboxes/{id}/network', run: async ({ req, principal, id }) => {
        const b = await body(req, W.NetworkConfig);
        // The update replaces everything; an empty body clears the rules (back to allow-all).
        await s.setNetwork(principal, id, egressPolicy(b, true) ?? { defaultAction: 'allow', allow: [], deny: [] });
        return { status: 204 };
      },
    },
  ];
  return new Router(routes);
}

/** Runs the control route for a request; false when no route matches the path. */
export async function handleControl(router: Router<Route>, req: IncomingMessage, res: ServerResponse, path: string, principal: () => Principal): Promise<boolean> {
  const u = new URL(path, 'http://x');
  const m = router.match(req.method ?? 'GET', u.pathname);
  if (!m) return false;
  if ('allowed' in m) throw new AgentboxError('invalid_argument', `${req.method} is not allowed on ${u.pathname}; use ${m.allowed.join(' or ')}`);
  const p = principal();
  let id = '';
  if (m.params.id !== undefined) {
    // E2B ids are [a-z0-9]{20}; anything else cannot name a sandbox.
    if (!SandboxId.safeParse(m.params.id).success) throw notFound('sandbox', m.params.id);
    id = m.params.id;
  }
  const reply = await m.route.run({ req, principal: p, id, params: m.params, query: u.searchParams });
  if (reply.body === undefined) {
    res.writeHead(reply.status, reply.headers ?? {});
    res.end();
  } else sendJson(res, reply.status, reply.body, reply.headers);
  return true;
}
