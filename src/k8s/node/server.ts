// The node agent's HTTP API (routes and bodies in src/api/k8s/node-agent.ts). It is privileged
// on its node (it stops and restores pods' sandboxes), so every call but /healthz needs the
// token shared with the operator, its only client, compared in constant time; with `tls` it
// serves HTTPS, so the token and the requests never cross the node network in the clear.
import http from 'node:http';
import https from 'node:https';
import { timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { AgentboxError } from '../../api/errors.ts';
import {
  CheckpointRequest, GrantKey, RESTORE_GRANT_PATH_RE, RestoreRequest, RUNTIME_PATH, RuntimeInstallRequest, SnapshotKey, SNAPSHOT_PATH_RE,
} from '../../api/k8s/node-agent.ts';
import type { NodeRuntime } from './runtime.ts';
import type { NodeSnapshots } from './snapshots.ts';

export interface NodeAgentServerOptions {
  snapshots: NodeSnapshots;
  /** The SandboxConfig-managed runsc; without it (no `--runtime-dir`) the node keeps its own. */
  runtime?: NodeRuntime;
  token: string;
  /** PEM certificate and key: HTTPS (the deployments'); without, plain HTTP. */
  tls?: { cert: string; key: string };
  host: string;
  port: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningNodeAgent { port: number; close(): Promise<void> }

const MAX_BODY = 64 << 10;

async function body<S extends z.ZodTypeAny>(req: http.IncomingMessage, schema: S): Promise<z.infer<S>> {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > MAX_BODY) throw new AgentboxError('invalid_argument', `request body over ${MAX_BODY} bytes`);
  }
  let json: unknown;
  try { json = JSON.parse(raw); } catch { throw new AgentboxError('invalid_argument', 'request body is not JSON'); }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new AgentboxError('invalid_argument', `invalid request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function startNodeAgentServer(o: NodeAgentServerOptions): Promise<RunningNodeAgent> {
  const token = Buffer.from(o.token);
  const authorized = (req: http.IncomingMessage) => {
    const got = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    return got.length === token.length && timingSafeEqual(got, token);
  };
  const route = async (req: http.IncomingMessage): Promise<unknown> => {
    const path = new URL(req.url ?? '/', 'http://node').pathname;
    if (path === '/healthz') return { ok: true };
    if (!authorized(req)) throw new AgentboxError('unauthenticated', 'the node agent needs its token as Authorization: Bearer');
    if (req.method === 'POST' && path === '/v1/checkpoints') return o.snapshots.checkpoint(await body(req, CheckpointRequest));
    if (req.method === 'POST' && path === '/v1/restores') return o.snapshots.prepareRestore(await body(req, RestoreRequest));
    if (path === RUNTIME_PATH && (req.method === 'GET' || req.method === 'PUT')) {
      const install = req.method === 'PUT' ? await body(req, RuntimeInstallRequest) : undefined;
      if (!o.runtime) throw new AgentboxError('not_supported', 'this node agent runs without --runtime-dir, so its runsc is not managed by SandboxConfigs');
      return install ? o.runtime.install(install) : o.runtime.state();
    }
    const g = RESTORE_GRANT_PATH_RE.exec(path);
    if (req.method === 'DELETE' && g) {
      const key = GrantKey.safeParse({ namespace: decodeURIComponent(g[1]!), snapshotId: decodeURIComponent(g[2]!), name: decodeURIComponent(g[3]!) });
      if (!key.success) throw new AgentboxError('invalid_argument', `not a restore grant: ${path}`);
      await o.snapshots.revokeGrant(key.data.namespace, key.data.snapshotId, key.data.name);
      return null;
    }
    const m = SNAPSHOT_PATH_RE.exec(path);
    if (req.method === 'DELETE' && m) {
      const key = SnapshotKey.safeParse({ namespace: decodeURIComponent(m[1]!), snapshotId: decodeURIComponent(m[2]!) });
      if (!key.success) throw new AgentboxError('invalid_argument', `not a snapshot: ${path}`);
      await o.snapshots.delete(key.data.namespace, key.data.snapshotId);
      return null;
    }
    throw new AgentboxError('not_found', `no route ${req.method} ${path}`);
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const t0 = performance.now();
    route(req).then((result) => {
      if (result === null) res.writeHead(204).end();
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result));
    }, (e: unknown) => {
      const err = e instanceof AgentboxError ? e : new AgentboxError('internal', e instanceof Error ? e.message : String(e));
      res.writeHead(err.httpStatus, { 'Content-Type': 'application/json' }).end(JSON.stringify(err.toJSON()));
      return err;
    }).then((err) => {
      if (req.url !== '/healthz') o.log?.('node agent request', { method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - t0), ...(err ? { err: err.message } : {}) });
    });
  };
  const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, handler) : http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve({
      port: (server.address() as { port: number }).port,
      close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}
