/**
 * The native `/v1` façade: one handler per route of src/api/native-routes.ts. Handlers only
 * translate between HTTP and SandboxService; validation comes from the route's schemas.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AgentboxError, asAgentboxError, notFound } from '../api/errors.ts';
import * as S from '../api/native.ts';
import type { RouteSpec } from '../api/native-routes.ts';
import type { AuthStore, Principal } from '../server/auth-store.ts';
import type { PoolManager } from '../server/pools.ts';
import type { Quota } from '../server/quota.ts';
import type { RecordState } from '../server/sandbox-store.ts';
import type { SandboxService } from '../server/service.ts';
import type { TemplateAccess } from '../server/templates.ts';
import { requireAdmin } from './auth.ts';
import { sandboxView } from './views.ts';

export interface HandlerContext {
  req: IncomingMessage;
  res: ServerResponse;
  principal: Principal;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** Raw body as it arrives, for routes with `rawBody` (bounded by the server's maxFileBytes). */
  raw?: AsyncIterable<Uint8Array>;
}

/** A handler's JSON result, or RESPONDED when it wrote the response itself (streams, bytes). */
export const RESPONDED = Symbol('responded');
export type Handler = (ctx: HandlerContext) => Promise<unknown> | unknown;

export interface NativeDeps {
  service: SandboxService;
  auth: AuthStore;
  templates: TemplateAccess;
  pools: PoolManager;
  quota: Quota;
  /** Called when timers change so the lifecycle loop re-plans its sleep. */
  timersChanged: () => void;
  /** Most bytes of each output stream a buffered exec result holds (default 16 MiB). */
  maxExecOutputBytes?: number;
}

const sandboxId = (params: Record<string, string>): string => {
  const r = S.SandboxId.safeParse(params.id);
  if (!r.success) throw notFound('sandbox', params.id ?? '');
  return r.data;
};

/** The tenant named (by name or id) in the path, or not_found. */
const tenantParam = (auth: AuthStore, params: Record<string, string>): S.TenantView => {
  const t = auth.findTenant(params.tenant ?? '');
  if (!t) throw notFound('tenant', params.tenant ?? '');
  return t;
};

const templateParam = (params: Record<string, string>): string => {
  const r = S.TemplateName.safeParse(params.template);
  if (!r.success) throw new AgentboxError('invalid_argument', `template name '${params.template}' is invalid: ${r.error.issues[0]?.message}`);
  return r.data;
};

/** `k=v&k2=v2` strings (each part URL-encoded, E2B style) → one map; all pairs must match. */
export function parseMetadataFilter(items: string[] | undefined): Record<string, string> | undefined {
  if (!items?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    for (const pair of item.split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new AgentboxError('invalid_argument', `metadata filter '${pair}' must look like key=value`);
      try {
        out[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
      } catch {
        throw new AgentboxError('invalid_argument', `metadata filter '${pair}' is not valid URL encoding`);
      }
    }
  }
  return out;
}

/**
 * Starts an NDJSON response. Each write settles once the line is handed to the socket, or, when
 * the socket's buffer is full, once it drained (or the client left): callers await it before
 * reading more from the sandbox, so a slow reader never makes the server hold the stream.
 */
function streamNdjson(res: ServerResponse): (line: unknown) => Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  return (line) => {
    if (res.destroyed || res.write(`${JSON.stringify(line)}\n`)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
      res.on('drain', done);
      res.on('close', done);
    });
  };
}

const wantsNdjson = (req: IncomingMessage) => (req.headers.accept ?? '').includes('application/x-ndjson');

/** Aborts when the client goes away before the response is complete. */
function clientGone(req: IncomingMessage, res: ServerResponse): AbortController {
  const ac = new AbortController();
  res.on('close', () => { if (!res.writableFinished) ac.abort(); });
  req.on('aborted', () => ac.abort());
  return ac;
}

export function nativeHandlers(d: NativeDeps): Record<string, Handler> {
  const { service } = d;
  return {
    async createSandbox({ principal, body }) {
      const out = sandboxView(await service.create(principal, body as S.CreateSandboxBody));
      d.timersChanged();
      return out;
    },
    listSandboxes({ principal, query }) {
      const q = query as S.ListSandboxesQuery;
      const filter: Parameters<SandboxService['list']>[1] = { limit: q.limit };
      if (q.state) filter.states = q.state.split(',') as RecordState[];
      const metadata = parseMetadataFilter(q.metadata);
      if (metadata) filter.metadata = metadata;
      if (q.template) filter.template = q.template;
      if (q.nextToken) filter.after = q.nextToken;
      const { items, next } = service.list(principal, filter);
      return next ? { sandboxes: items.map(sandboxView), nextToken: next } : { sandboxes: items.map(sandboxView) };
    },
    getSandbox({ principal, params }) {
      return sandboxView(service.get(principal, sandboxId(params)));
    },
    async killSandbox({ principal, params }) {
      await service.kill(principal, sandboxId(params));
    },
    setTimeout({ principal, params, body }) {
      const out = sandboxView(service.setTimeout(principal, sandboxId(params), (body as { timeoutSeconds: number }).timeoutSeconds));
      d.timersChanged();
      return out;
    },
    async pauseSandbox({ principal, params }) {
      return sandboxView(await service.pause(principal, sandboxId(params)));
    },
    async resumeSandbox({ principal, params }) {
      const out = sandboxView(await service.resume(principal, sandboxId(params)));
      d.timersChanged();
      return out;
    },
    async forkSandbox({ principal, params, body }) {
      const out = sandboxView(await service.fork(principal, sandboxId(params), body as S.ForkBody));
      d.timersChanged();
      return out;
    },
    async exec({ req, res, principal, params, body }) {
      const b = body as S.ExecBody;
      const id = sandboxId(params);
      const ac = clientGone(req, res);
      const execReq: Parameters<SandboxService['exec']>[2] = { cmd: typeof b.cmd === 'string' ? ['/bin/sh', '-c', b.cmd] : b.cmd, signal: ac.signal };
      if (b.env) execReq.env = b.env;
      if (b.cwd) execReq.cwd = b.cwd;
      if (b.user) execReq.user = b.user;
      if (b.timeoutMs !== undefined) execReq.timeoutMs = b.timeoutMs;
      if (b.stdin !== undefined) execReq.stdin = b.stdin;
      if (!wantsNdjson(req)) {
        if (d.maxExecOutputBytes !== undefined) execReq.maxOutputBytes = d.maxExecOutputBytes;
        const r = await service.exec(principal, id, execReq);
        const out: S.ExecResultView = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
        if (r.status) out.status = r.status;
        if (r.truncated) out.truncated = true;
        return out;
      }
      // Streamed output goes to the client as it comes; none of it is kept here.
      execReq.maxOutputBytes = 0;
      // Checked before the 200 goes out, so a bad id still gets its 404.
      service.get(principal, id);
      const write = streamNdjson(res);
      const out = new TextDecoder(), err = new TextDecoder();
      execReq.onStdout = (c) => { const s = out.decode(c, { stream: true }); return s ? write({ type: 'stdout', data: s }) : undefined; };
      execReq.onStderr = (c) => { const s = err.decode(c, { stream: true }); return s ? write({ type: 'stderr', data: s }) : undefined; };
      try {
        const r = await service.exec(principal, id, execReq);
        const end: S.ExecEvent = { type: 'end', exitCode: r.exitCode };
        if (r.status) end.status = r.status;
        await write(end);
      } catch (e) {
        const ae = asAgentboxError(e);
        await write({ type: 'error', code: ae.code, message: ae.message });
      }
      res.end();
      return RESPONDED;
    },
    async readFile({ res, principal, params, query }) {
      const file = await service.readFile(principal, sandboxId(params), (query as { path: string }).path);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(file.size !== undefined ? { 'Content-Length': file.size } : {}) });
      // pipeline honours backpressure and, if the guest fails midway, cuts the response short
      // (a client sees fewer bytes than Content-Length, never a silently short file).
      await pipeline(file.body, res).catch(() => { res.destroy(); });
      return RESPONDED;
    },
    async writeFile({ principal, params, query, raw }) {
      return service.writeFile(principal, sandboxId(params), (query as { path: string }).path, raw ?? new Uint8Array());
    },
    async removeFile({ principal, params, query }) {
      await service.removeFile(principal, sandboxId(params), (query as { path: string }).path);
    },
    async listFiles({ principal, params, query }) {
      const q = query as { path: string; depth: number };
      return { entries: await service.listFiles(principal, sandboxId(params), q.path, q.depth) };
    },
    async statFile({ principal, params, query }) {
      return service.statFile(principal, sandboxId(params), (query as { path: string }).path);
    },
    async watchFiles({ req, res, principal, params, query }) {
      const id = sandboxId(params);
      service.get(principal, id);
      const ac = clientGone(req, res);
      const write = streamNdjson(res);
      try {
        await service.watchFiles(principal, id, (query as { path: string }).path, (e) => write(e), ac.signal);
      } catch (e) {
        const ae = asAgentboxError(e);
        await write({ type: 'error', code: ae.code, message: ae.message });
      }
      res.end();
      return RESPONDED;
    },
    listTemplates({ principal }) {
      return { templates: d.templates.list(principal) };
    },
    async buildTemplate({ principal, body }) {
      return d.templates.build(principal, body as S.TemplateBody);
    },
    async uploadTemplate({ principal, params, query, raw }) {
      return d.templates.buildFromUpload(principal, templateParam(params), raw ?? (async function* () {})(), query as z.infer<typeof S.TemplateUploadQuery>);
    },
    listPools({ principal }) {
      return { pools: d.pools.list(principal.tenantId) };
    },
    getPool({ principal, params }) {
      const t = templateParam(params);
      const pool = d.pools.get(principal.tenantId, t);
      if (!pool) throw notFound('pool', t);
      return pool;
    },
    async setPool({ principal, params, body }) {
      const t = templateParam(params);
      const b = body as z.infer<typeof S.PoolBody>;
      const tpl = await d.templates.usable(principal, t);
      return d.pools.set(principal, t, b.size, tpl, b.runtime);
    },
    deletePool({ principal, params }) {
      const t = templateParam(params);
      if (!d.pools.delete(principal.tenantId, t)) throw notFound('pool', t);
    },
    getLimits({ principal }) {
      return d.quota.tenantView({ id: principal.tenantId, name: principal.tenantName }, principal.admin);
    },
    getPolicy({ principal }) {
      requireAdmin(principal);
      return d.quota.policyView();
    },
    setPolicy({ principal, body }) {
      requireAdmin(principal);
      return d.quota.setDefaults((body as z.infer<typeof S.PolicyBody>).defaults);
    },
    getTenantLimits({ principal, params }) {
      requireAdmin(principal);
      return d.quota.tenantView(tenantParam(d.auth, params));
    },
    setTenantLimits({ principal, params, body }) {
      requireAdmin(principal);
      const t = tenantParam(d.auth, params);
      d.quota.setTenant(t, body as S.LimitsPatch);
      return d.quota.tenantView(t);
    },
    deleteTenantLimits({ principal, params }) {
      requireAdmin(principal);
      const t = tenantParam(d.auth, params);
      if (!d.quota.setTenant(t, undefined)) throw notFound('limits of tenant', t.name);
    },
    listTenants({ principal }) {
      requireAdmin(principal);
      return { tenants: d.auth.listTenants() };
    },
    createTenant({ principal, body }) {
      requireAdmin(principal);
      return d.auth.createTenant((body as { name: string }).name);
    },
    listKeys({ principal }) {
      requireAdmin(principal);
      return { keys: d.auth.listKeys() };
    },
    createKey({ principal, body }) {
      requireAdmin(principal);
      const b = body as z.infer<typeof S.KeyBody>;
      const opts: Parameters<AuthStore['createKey']>[0] = { tenant: b.tenant ?? principal.tenantName, admin: b.admin };
      if (b.name !== undefined) opts.name = b.name;
      return d.auth.createKey(opts);
    },
    revokeKey({ principal, params }) {
      requireAdmin(principal);
      d.auth.revokeKey(params.keyId ?? '');
    },
  };
}

/** Every route in the table has a handler, checked at start-up rather than at the first call. */
export function checkHandlers(routes: RouteSpec[], handlers: Record<string, Handler>): void {
  const missing = routes.filter((r) => !handlers[r.id]).map((r) => r.id);
  if (missing.length) throw new AgentboxError('internal', `native routes without a handler: ${missing.join(', ')}`);
}
