/**
 * The route table of the native API: one entry per operation, keyed by its id. The gateway
 * validates with the schemas named here and hands each handler the inferred types of its own
 * route (src/api/route.ts); `openapi.ts` turns the same table into the OpenAPI document and the
 * SDK builds its requests from it, so what is documented is what is enforced.
 */
import type { z } from 'zod';
import * as E from './events.ts';
import * as S from './native.ts';
import { defineRoutes, routeList, type Route, type RouteDef } from './route.ts';

export interface NativeRouteDef extends RouteDef {
  summary: string;
  /** Also streams `application/x-ndjson` lines of this schema when the client accepts it. */
  ndjson?: z.ZodType;
  /** Only an admin key may call it. */
  admin?: boolean;
}

export type RouteSpec = Route<NativeRouteDef>;

const defineNative = <const T extends Record<string, NativeRouteDef>>(table: T): T => defineRoutes(table);

export const nativeApi = defineNative({
  createSandbox: { method: 'POST', path: '/v1/sandboxes', summary: 'Create a sandbox (claims a warm one when a pool matches)', body: S.CreateSandboxBody, status: 201, response: S.Sandbox },
  listSandboxes: { method: 'GET', path: '/v1/sandboxes', summary: 'List the caller\'s sandboxes', query: S.ListSandboxesQuery, status: 200, response: S.SandboxList },
  getSandbox: { method: 'GET', path: '/v1/sandboxes/{id}', summary: 'Get a sandbox', status: 200, response: S.Sandbox },
  killSandbox: { method: 'DELETE', path: '/v1/sandboxes/{id}', summary: 'Kill a sandbox and remove its files', status: 204 },
  setTimeout: { method: 'POST', path: '/v1/sandboxes/{id}/timeout', summary: 'Reset the timeout, counted from now', body: S.TimeoutBody, status: 200, response: S.Sandbox },
  pauseSandbox: { method: 'POST', path: '/v1/sandboxes/{id}/pause', summary: 'Pause (checkpoint) a sandbox', status: 200, response: S.Sandbox },
  resumeSandbox: { method: 'POST', path: '/v1/sandboxes/{id}/resume', summary: 'Resume a paused sandbox; its timer restarts', status: 200, response: S.Sandbox },
  forkSandbox: { method: 'POST', path: '/v1/sandboxes/{id}/fork', summary: 'Fork a running sandbox into a new one', body: S.ForkBody, status: 201, response: S.Sandbox },
  getSandboxLogs: { method: 'GET', path: '/v1/sandboxes/{id}/logs', summary: 'The sandbox\'s console: the guest daemon\'s log (JSON lines) with its start command\'s output; `follow=true` keeps sending until the sandbox ends', query: S.LogsQuery, status: 200, response: 'bytes' },
  getSandboxUsage: { method: 'GET', path: '/v1/sandboxes/{id}/usage', summary: 'CPU time, memory, pids and disk a running sandbox uses now (its cgroup)', status: 200, response: S.SandboxUsage },
  exec: { method: 'POST', path: '/v1/sandboxes/{id}/exec', summary: 'Run a command; streams ExecEvent lines with Accept: application/x-ndjson', body: S.ExecBody, status: 200, response: S.ExecResult, ndjson: S.ExecEvent },
  readFile: { method: 'GET', path: '/v1/sandboxes/{id}/files', summary: 'Read a file', query: S.FilePathQuery, status: 200, response: 'bytes' },
  writeFile: { method: 'PUT', path: '/v1/sandboxes/{id}/files', summary: 'Write a file (parents are created)', query: S.FilePathQuery, rawBody: true, status: 200, response: S.FileEntry },
  removeFile: { method: 'DELETE', path: '/v1/sandboxes/{id}/files', summary: 'Remove a file or directory (recursive); a missing path is no error', query: S.FilePathQuery, status: 204 },
  listFiles: { method: 'GET', path: '/v1/sandboxes/{id}/files/list', summary: 'List a directory', query: S.ListFilesQuery, status: 200, response: S.FileList },
  statFile: { method: 'GET', path: '/v1/sandboxes/{id}/files/stat', summary: 'Stat a path', query: S.FilePathQuery, status: 200, response: S.FileEntry },
  watchFiles: { method: 'GET', path: '/v1/sandboxes/{id}/files/watch', summary: 'Watch a directory; streams WatchEvent lines (application/x-ndjson), `start` first once the watch is live', query: S.FilePathQuery, status: 200, ndjson: S.WatchEvent },
  listEvents: { method: 'GET', path: '/v1/events', summary: 'Lifecycle events of the caller\'s sandboxes (an admin: every tenant\'s), oldest first, kept 7 days; with Accept: text/event-stream, a Server-Sent Events stream of them and then of new ones (Last-Event-ID resumes)', query: E.ListEventsQuery, status: 200, response: E.EventList },
  listTemplates: { method: 'GET', path: '/v1/templates', summary: 'Templates the caller may use', status: 200, response: S.TemplateList },
  buildTemplate: { method: 'POST', path: '/v1/templates', summary: 'Build a template from a recipe (waits until built); streams TemplateBuildEvent lines with Accept: application/x-ndjson', body: S.TemplateBody, status: 201, response: S.Template, ndjson: S.TemplateBuildEvent },
  uploadTemplate: { method: 'POST', path: '/v1/templates/{template}/oci', summary: 'Build a template from an uploaded image (the body is a docker-save archive; waits until built)', rawBody: true, query: S.TemplateUploadQuery, status: 201, response: S.Template },
  listVolumes: { method: 'GET', path: '/v1/volumes', summary: 'The caller\'s volumes', status: 200, response: S.VolumeList },
  createVolume: { method: 'POST', path: '/v1/volumes', summary: 'Create a volume: a directory with a size limit that sandboxes of the tenant mount (`volumes` at create)', body: S.CreateVolumeBody, status: 201, response: S.Volume },
  getVolume: { method: 'GET', path: '/v1/volumes/{volume}', summary: 'A volume (by id or name)', status: 200, response: S.Volume },
  deleteVolume: { method: 'DELETE', path: '/v1/volumes/{volume}', summary: 'Delete a volume and its files; 409 while a sandbox mounts it', status: 204 },
  listPools: { method: 'GET', path: '/v1/pools', summary: 'The caller\'s warm pools', status: 200, response: S.PoolList },
  getPool: { method: 'GET', path: '/v1/pools/{template}', summary: 'A warm pool', status: 200, response: S.Pool },
  setPool: { method: 'PUT', path: '/v1/pools/{template}', summary: 'Set the size of a warm pool', body: S.PoolBody, status: 200, response: S.Pool },
  deletePool: { method: 'DELETE', path: '/v1/pools/{template}', summary: 'Delete a warm pool and its unclaimed sandboxes', status: 204 },
  getLimits: { method: 'GET', path: '/v1/limits', summary: 'The caller\'s limits and current use', status: 200, response: S.TenantLimits },
  getPolicy: { method: 'GET', path: '/v1/policy', summary: 'The server policy: default limits and per-tenant overrides', status: 200, response: S.Policy, admin: true },
  setPolicy: { method: 'PUT', path: '/v1/policy', summary: 'Replace the default limits (omitted fields: built-in); applies at once', body: S.PolicyBody, status: 200, response: S.Policy, admin: true },
  getTenantLimits: { method: 'GET', path: '/v1/tenants/{tenant}/limits', summary: 'A tenant\'s limits, overrides and current use (tenant by name or id)', status: 200, response: S.TenantLimits, admin: true },
  setTenantLimits: { method: 'PUT', path: '/v1/tenants/{tenant}/limits', summary: 'Replace a tenant\'s overrides (omitted fields: the defaults); applies at once', body: S.LimitsPatch, status: 200, response: S.TenantLimits, admin: true },
  deleteTenantLimits: { method: 'DELETE', path: '/v1/tenants/{tenant}/limits', summary: 'Remove a tenant\'s overrides (it gets the defaults)', status: 204, admin: true },
  listTenants: { method: 'GET', path: '/v1/tenants', summary: 'List tenants', status: 200, response: S.TenantList, admin: true },
  createTenant: { method: 'POST', path: '/v1/tenants', summary: 'Create a tenant', body: S.TenantBody, status: 201, response: S.Tenant, admin: true },
  listKeys: { method: 'GET', path: '/v1/keys', summary: 'List API keys', status: 200, response: S.KeyList, admin: true },
  createKey: { method: 'POST', path: '/v1/keys', summary: 'Create an API key (the secret is returned once)', body: S.KeyBody, status: 201, response: S.CreatedKey, admin: true },
  revokeKey: { method: 'DELETE', path: '/v1/keys/{keyId}', summary: 'Revoke an API key', status: 204, admin: true },
});

export type NativeApi = typeof nativeApi;

/** The routes in match order. */
export const nativeRoutes: RouteSpec[] = routeList(nativeApi);
