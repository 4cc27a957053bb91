/**
 * The native `/v1` façade: one handler per route of src/api/native-routes.ts. Handlers only
 * translate between HTTP and the backend (src/server/backend.ts); each receives its route's
 * validated params, query and body with their inferred types.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AgentboxError, asAgentboxError, notFound } from '../api/errors.ts';
import * as S from '../api/native.ts';
import type { NativeApi } from '../api/native-routes.ts';
import type { ExecRequest, SandboxBackend } from '../server/backend.ts';
import { requireAdmin } from './auth.ts';
import { resumePoint, serveEventStream, wantsEventStream } from './event-stream.ts';
import { RESPONDED, type Handlers } from './handlers.ts';
import { parseMetadataFilter } from './metadata-filter.ts';
import { sandboxView } from './views.ts';

export type NativeHandlers = Handlers<NativeApi>;

export interface NativeDeps {
  backend: SandboxBackend;
  /** Most bytes of each output stream a buffered exec result holds (default 16 MiB). */
  maxExecOutputBytes?: number;
}

const sandboxId = (id: string): string => {
  const r = S.SandboxId.safeParse(id);
  if (!r.success) throw notFound('sandbox', id);
  return r.data;
};

const templateParam = (name: string): string => {
  const r = S.TemplateName.safeParse(name);
  if (!r.success) throw new AgentboxError('invalid_argument', `template name '${name}' is invalid: ${r.error.issues[0]?.message}`);
  return r.data;
};

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

/**
 * An exec's output stream as NDJSON lines in the request's encoding. Text is decoded across
 * chunks, so a character split between two reads arrives whole; `end` writes what an unfinished
 * character left (as U+FFFD). Base64 encodes each chunk on its own, so every line decodes alone.
 */
function outputLines(type: 'stdout' | 'stderr', encoding: S.ExecEncoding, write: (line: S.ExecEvent) => Promise<void>) {
  const text = new TextDecoder();
  const line = (data: string) => (data ? write({ type, data }) : undefined);
  return {
    push: (chunk: Uint8Array) => line(encoding === 'base64'
      ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64')
      : text.decode(chunk, { stream: true })),
    end: async () => { if (encoding === 'utf8') await line(text.decode()); },
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

export function nativeHandlers(d: NativeDeps): NativeHandlers {
  const { sandboxes, templates, pools, limits, accounts, events, volumes } = d.backend;
  return {
    async createSandbox({ principal, body }) {
      return sandboxView(await sandboxes.create(principal, body));
    },
    listSandboxes({ principal, query: q }) {
      const filter: Parameters<typeof sandboxes.list>[1] = { limit: q.limit };
      if (q.state) filter.states = q.state;
      const metadata = parseMetadataFilter(q.metadata);
      if (metadata) filter.metadata = metadata;
      if (q.template) filter.template = q.template;
      if (q.nextToken) filter.after = q.nextToken;
      const { items, next } = sandboxes.list(principal, filter);
      return next ? { sandboxes: items.map(sandboxView), nextToken: next } : { sandboxes: items.map(sandboxView) };
    },
    getSandbox({ principal, params }) {
      return sandboxView(sandboxes.get(principal, sandboxId(params.id)));
    },
    async killSandbox({ principal, params }) {
      await sandboxes.kill(principal, sandboxId(params.id));
    },
    async setTimeout({ principal, params, body }) {
      return sandboxView(await sandboxes.setTimeout(principal, sandboxId(params.id), body.timeoutSeconds));
    },
    async pauseSandbox({ principal, params }) {
      return sandboxView(await sandboxes.pause(principal, sandboxId(params.id)));
    },
    async resumeSandbox({ principal, params }) {
      return sandboxView(await sandboxes.resume(principal, sandboxId(params.id)));
    },
    async forkSandbox({ principal, params, body }) {
      return sandboxView(await sandboxes.fork(principal, sandboxId(params.id), body));
    },
    async exec({ req, res, principal, params, body: b }) {
      const id = sandboxId(params.id);
      const ac = clientGone(req, res);
      const execReq: ExecRequest = { cmd: typeof b.cmd === 'string' ? ['/bin/sh', '-c', b.cmd] : b.cmd, signal: ac.signal };
      if (b.env) execReq.env = b.env;
      if (b.cwd) execReq.cwd = b.cwd;
      if (b.user) execReq.user = b.user;
      if (b.timeoutMs !== undefined) execReq.timeoutMs = b.timeoutMs;
      const encoding = b.encoding ?? 'utf8';
      if (b.stdin !== undefined) execReq.stdin = encoding === 'base64' ? Buffer.from(b.stdin, 'base64') : b.stdin;
      if (!wantsNdjson(req)) {
        execReq.resultEncoding = encoding;
        if (d.maxExecOutputBytes !== undefined) execReq.maxOutputBytes = d.maxExecOutputBytes;
        const r = await sandboxes.exec(principal, id, execReq);
        const out: S.ExecResultView = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
        if (r.status) out.status = r.status;
        if (r.truncated) out.truncated = true;
        return out;
      }
      // Streamed output goes to the client as it comes; none of it is kept here.
      execReq.maxOutputBytes = 0;
      // Checked before the 200 goes out, so a bad id still gets its 404.
      sandboxes.get(principal, id);
      const write = streamNdjson(res);
      const stdout = outputLines('stdout', encoding, write), stderr = outputLines('stderr', encoding, write);
      execReq.onStdout = stdout.push;
      execReq.onStderr = stderr.push;
      await endStream(write, res, async () => {
        const r = await sandboxes.exec(principal, id, execReq);
        await stdout.end();
        await stderr.end();
        const end: S.ExecEvent = { type: 'end', exitCode: r.exitCode };
        if (r.status) end.status = r.status;
        await write(end);
      });
      return RESPONDED;
    },
    async getSandboxLogs({ req, res, principal, params, query }) {
      const ac = clientGone(req, res);
      const chunks = sandboxes.logs(principal, sandboxId(params.id), { follow: query.follow, signal: ac.signal });
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      // Backpressure as for a file; a read that fails midway cuts the response short.
      await pipeline(Readable.from(chunks), res).catch(() => { res.destroy(); });
      return RESPONDED;
    },
    async getSandboxUsage({ principal, params }) {
      const u = await sandboxes.usage(principal, sandboxId(params.id));
      return { cpuNanos: u.cpuNanos, memoryBytes: u.memoryBytes, pids: u.pids, ...(u.disk ? { disk: { usedBytes: u.disk.usedBytes, limitBytes: u.disk.limitBytes } } : {}) };
    },
    async readFile({ res, principal, params, query }) {
      const file = await sandboxes.readFile(principal, sandboxId(params.id), query.path);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(file.size !== undefined ? { 'Content-Length': file.size } : {}) });
      // pipeline honours backpressure and, if the guest fails midway, cuts the response short
      // (a client sees fewer bytes than Content-Length, never a silently short file).
      await pipeline(file.body, res).catch(() => { res.destroy(); });
      return RESPONDED;
    },
    async writeFile({ principal, params, query, raw }) {
      return sandboxes.writeFile(principal, sandboxId(params.id), query.path, raw ?? new Uint8Array());
    },
    async removeFile({ principal, params, query }) {
      await sandboxes.removeFile(principal, sandboxId(params.id), query.path);
    },
    async listFiles({ principal, params, query }) {
      return { entries: await sandboxes.listFiles(principal, sandboxId(params.id), query.path, query.depth) };
    },
    async statFile({ principal, params, query }) {
      return sandboxes.statFile(principal, sandboxId(params.id), query.path);
    },
    async watchFiles({ req, res, principal, params, query }) {
      const id = sandboxId(params.id);
      sandboxes.get(principal, id);
      const ac = clientGone(req, res);
      const write = streamNdjson(res);
      await endStream(write, res, () => sandboxes.watchFiles(principal, id, query.path, (e) => write(e), ac.signal));
      return RESPONDED;
    },
    async listEvents({ req, res, principal, query: q }) {
      const filter = {
        ...(q.sandboxId !== undefined ? { sandboxId: q.sandboxId } : {}), ...(q.types ? { types: q.types } : {}),
        ...(q.since !== undefined ? { since: Date.parse(q.since) } : {}),
      };
      const after = resumePoint(req, q.after);
      if (!wantsEventStream(req)) return { events: events.list(principal, { ...filter, ...(after !== undefined ? { after } : {}), limit: q.limit, order: 'asc' }) };
      await serveEventStream(req, res, events, principal, { ...filter, ...(after !== undefined ? { after } : {}) });
      return RESPONDED;
    },
    listTemplates({ principal }) {
      return { templates: templates.list(principal) };
    },
    async buildTemplate({ req, res, principal, body }) {
      if (!wantsNdjson(req)) return templates.build(principal, body);
      // The build's own progress lines, as they happen; the build goes on if the client leaves.
      const write = streamNdjson(res);
      await endStream(write, res, async () => {
        const template = await templates.build(principal, body, (line) => { void write({ type: 'log', line }); });
        await write({ type: 'end', template });
      });
      return RESPONDED;
    },
    async uploadTemplate({ principal, params, query, raw }) {
      return templates.buildFromUpload(principal, templateParam(params.template), raw ?? (async function* () {})(), query);
    },
    listVolumes({ principal }) {
      return { volumes: volumes.list(principal) };
    },
    createVolume({ principal, body }) {
      return volumes.create(principal, body.name, body.sizeMiB);
    },
    getVolume({ principal, params }) {
      return volumes.get(principal, params.volume);
    },
    async deleteVolume({ principal, params }) {
      await volumes.delete(principal, params.volume);
    },
    listPools({ principal }) {
      return { pools: pools.list(principal) };
    },
    getPool({ principal, params }) {
      return pools.get(principal, templateParam(params.template));
    },
    async setPool({ principal, params, body }) {
      return pools.set(principal, templateParam(params.template), body.sizing, body.runtime);
    },
    deletePool({ principal, params }) {
      pools.delete(principal, templateParam(params.template));
    },
    getLimits({ principal }) {
      return limits.mine(principal);
    },
    getPolicy({ principal }) {
      requireAdmin(principal);
      return limits.policy();
    },
    setPolicy({ principal, body }) {
      requireAdmin(principal);
      return limits.setDefaults(body.defaults);
    },
    getTenantLimits({ principal, params }) {
      requireAdmin(principal);
      return limits.ofTenant(params.tenant);
    },
    setTenantLimits({ principal, params, body }) {
      requireAdmin(principal);
      return limits.setTenant(params.tenant, body);
    },
    deleteTenantLimits({ principal, params }) {
      requireAdmin(principal);
      limits.clearTenant(params.tenant);
    },
    listTenants({ principal }) {
      requireAdmin(principal);
      return { tenants: accounts.listTenants() };
    },
    createTenant({ principal, body }) {
      requireAdmin(principal);
      return accounts.createTenant(body.name);
    },
    listKeys({ principal }) {
      requireAdmin(principal);
      return { keys: accounts.listKeys() };
    },
    createKey({ principal, body }) {
      requireAdmin(principal);
      const opts: Parameters<typeof accounts.createKey>[0] = { tenant: body.tenant ?? principal.tenantName, admin: body.admin };
      if (body.name !== undefined) opts.name = body.name;
      return accounts.createKey(opts);
    },
    async revokeKey({ principal, params }) {
      requireAdmin(principal);
      await accounts.revokeKey(params.keyId);
    },
  };
}

/** Runs a streamed operation, then ends the stream; a failure becomes the stream's last line. */
async function endStream(write: (line: unknown) => Promise<void>, res: ServerResponse, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    const ae = asAgentboxError(e);
    await write({ type: 'error', code: ae.code, message: ae.message });
  }
  res.end();
}
