/**
 * The E2B control API (E2B's published spec, github.com/e2b-dev/E2B `spec/`): its routes, request
 * bodies, queries and answers as zod schemas, the way src/api/native.ts declares the native API.
 * Request objects are loose: SDKs send fields agentbox does not act on (`secure`, `mcp`, `iam`,
 * `volumeMounts`), and refusing them would break unchanged clients. Answer field names are exact
 * (the SDKs parse them; Python with strict enums).
 */
import { z } from 'zod';
import { EnvMap, MAX_TIMEOUT_SECONDS, MetadataMap } from './native.ts';
import { defineRoutes, repeated } from './route.ts';

/** E2B's v1 create defaults to 15 s when the body has no timeout (v2: 300 s, DEFAULT_TIMEOUT_SECONDS). */
export const V1_DEFAULT_TIMEOUT_S = 15;

/** Seconds up to the team maximum (here agentbox's 24 h ceiling). */
const AtMostMaxTimeout = z.number().int().refine((n) => n <= MAX_TIMEOUT_SECONDS, { message: `Timeout cannot be greater than ${MAX_TIMEOUT_SECONDS / 3600} hours` });

/** Seconds; E2B answers 400 for ≤0 and above the team maximum. */
export const TimeoutSeconds = AtMostMaxTimeout.refine((n) => n > 0, { message: 'Timeout must be greater than 0' });

/** One CIDR, address or domain name; the same bounds as the native API's egress lists. */
const EgressEntry = z.string().min(1).max(253);

export const NetworkConfig = z.looseObject({
  allowOut: z.array(EgressEntry).max(256).nullish(),
  denyOut: z.array(EgressEntry).max(256).nullish(),
  allowPublicTraffic: z.boolean().nullish(),
});
export type NetworkConfig = z.infer<typeof NetworkConfig>;

export const NewSandbox = z.looseObject({
  templateID: z.string().min(1),
  timeout: TimeoutSeconds.optional(),
  autoPause: z.boolean().optional(),
  autoPauseMemory: z.boolean().nullish(),
  autoResume: z.looseObject({ enabled: z.boolean() }).nullish(),
  allow_internet_access: z.boolean().nullish(),
  network: NetworkConfig.nullish(),
  // The native API's bounds, so neither façade lets a tenant bloat the state database.
  metadata: MetadataMap.nullish(),
  envVars: EnvMap.nullish(),
  /** The SDK's MCP gateway (JS ≥2.x `mcp`): not served; any value is refused (control.ts). */
  mcp: z.unknown().optional(),
});
export type NewSandbox = z.infer<typeof NewSandbox>;

/** v1 connect requires `timeout`; v2 makes the whole body optional (default 300 s). */
export const ConnectBody = z.looseObject({ timeout: TimeoutSeconds.optional(), memory: z.boolean().optional() });
export const ResumeBody = z.looseObject({ timeout: TimeoutSeconds.optional(), autoPause: z.boolean().optional() });
/**
 * `setTimeout`: E2B's minimum is 0 there, which sets the sandbox's end to now, so its timeout
 * action (kill, or pause with autoPause) runs at once (docs/e2b.md).
 */
export const TimeoutBody = z.looseObject({
  timeout: AtMostMaxTimeout.refine((n) => n >= 0, { message: 'Timeout must be 0 or greater' }),
});
export const PauseBody = z.looseObject({ memory: z.boolean().optional() });
export const ForkBody = z.looseObject({ timeout: TimeoutSeconds.optional(), count: z.number().int().min(1).max(100).default(1) });
export const RefreshBody = z.looseObject({ duration: z.number().int().min(0).max(3600).optional() });
export const SnapshotBody = z.looseObject({ name: z.string().min(1).max(128).regex(/^[^\s]+$/, 'a snapshot name has no spaces').nullish() });

/** `?limit=`: 1-100, default 100 (one message for every wrong value, as E2B words it). */
const Limit = z.string().optional().transform((raw, ctx) => {
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 100) return n;
  ctx.addIssue({ code: 'custom', message: 'limit must be an integer from 1 to 100' });
  return z.NEVER;
});

const E2B_STATES = ['running', 'paused'] as const;
export type E2bState = (typeof E2B_STATES)[number];
const isE2bState = (s: string): s is E2bState => (E2B_STATES as readonly string[]).includes(s);

/** `?state=running,paused` (empty entries skipped); absent or empty: both. */
const States = z.string().optional().transform((raw, ctx) => {
  if (!raw) return [...E2B_STATES];
  const out = raw.split(',').filter(Boolean);
  const bad = out.find((s) => !isE2bState(s));
  if (bad === undefined) return out.filter(isE2bState);
  ctx.addIssue({ code: 'custom', message: `state '${bad}' is not running or paused` });
  return z.NEVER;
});

const Order = z.string().optional().transform((raw, ctx) => {
  if (raw === undefined || raw === 'desc') return 'desc' as const;
  if (raw === 'asc') return 'asc' as const;
  ctx.addIssue({ code: 'custom', message: 'order must be asc or desc' });
  return z.NEVER;
});

/** RFC 3339 with an offset (the SDKs send `toISOString()` / Python's `isoformat()` of an aware datetime). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** `?startedAfter=<date-time>` → epoch ms. */
const StartedAfter = z.string().optional().transform((raw, ctx) => {
  if (raw === undefined) return undefined;
  const ms = RFC3339.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isFinite(ms)) return ms;
  ctx.addIssue({ code: 'custom', message: `startedAfter '${raw}' is not an RFC 3339 date-time (such as 2025-01-31T12:00:00Z)` });
  return z.NEVER;
});

/** `?start=` / `?end=` of the metrics: Unix seconds, as the SDKs send them. */
const UnixSeconds = (name: string) => z.string().optional().transform((raw, ctx) => {
  if (raw === undefined) return undefined;
  if (/^\d{1,12}$/.test(raw)) return Number(raw);
  ctx.addIssue({ code: 'custom', message: `${name} '${raw}' is not a time in Unix seconds (a non-negative integer)` });
  return z.NEVER;
});

/** `metadata=k=v&k2=v2` (each part URL-encoded), repeatable; all pairs must match. */
const MetadataFilter = repeated(z.array(z.string()).optional());

/** v1 `GET /sandboxes`: running sandboxes only, all of them. */
export const LegacyListQuery = z.object({ metadata: MetadataFilter, order: Order, nextToken: z.string().optional(), template: z.string().optional() });
export const ListQuery = LegacyListQuery.extend({ state: States, limit: Limit, startedAfter: StartedAfter });
/** The window of `getMetrics({start, end})`; start after end is refused. */
export const MetricsQuery = z.object({ start: UnixSeconds('start'), end: UnixSeconds('end') })
  .refine((q) => q.start === undefined || q.end === undefined || q.start <= q.end, { message: 'start must not be after end' });
export const SnapshotsQuery = z.object({ limit: Limit, nextToken: z.string().optional(), sandboxID: z.string().optional(), name: z.string().optional() });

/** The Sandbox object of create, connect and resume answers. */
export const Sandbox = z.object({
  templateID: z.string(), alias: z.string(), sandboxID: z.string(), clientID: z.string(), envdVersion: z.string(),
  /** Always minted by the engine: the SDKs send it as X-Access-Token and the guest enforces it. */
  envdAccessToken: z.string().optional(),
  /** Set when the sandbox's ports are private (`allowPublicTraffic: false`). */
  trafficAccessToken: z.string().nullable(),
  /** null = "use the client's own domain / sandbox URL". */
  domain: z.null(),
});

export const ListedSandbox = z.object({
  templateID: z.string(), alias: z.string(), sandboxID: z.string(), clientID: z.string(),
  startedAt: z.string(), endAt: z.string(),
  cpuCount: z.number().int(), memoryMB: z.number().int(), diskSizeMB: z.number().int(),
  state: z.enum(E2B_STATES), envdVersion: z.string(), metadata: z.record(z.string(), z.string()), volumeMounts: z.array(z.unknown()),
});

export const SandboxDetail = ListedSandbox.extend({
  envdAccessToken: z.string().optional(),
  trafficAccessToken: z.string().nullable(),
  domain: z.null(),
  allowInternetAccess: z.boolean().nullable(),
  lifecycle: z.object({ autoResume: z.boolean(), onTimeout: z.enum(['kill', 'pause']) }),
  network: z.object({ allowOut: z.array(z.string()), denyOut: z.array(z.string()), allowPublicTraffic: z.boolean() }).optional(),
});

export const SandboxMetric = z.object({
  timestamp: z.string(), timestampUnix: z.number().int(), cpuCount: z.number().int(), cpuUsedPct: z.number(),
  memUsed: z.number(), memTotal: z.number(), memCache: z.number(), diskUsed: z.number(), diskTotal: z.number(),
});

/** E2B's error body: `code` mirrors the HTTP status (the JS SDK reads it). */
export const ErrorBody = z.object({ code: z.number().int(), message: z.string() });

/** One copy of a fork call: the sandbox, or why that copy failed. */
export const ForkResult = z.union([z.object({ sandbox: Sandbox }), z.object({ error: ErrorBody })]);

/** The id is what `Sandbox.create` takes as templateID; a name works there too. */
export const SnapshotInfo = z.object({ snapshotID: z.string(), names: z.array(z.string()) });

/**
 * The control routes in match order. `setTimeoutLegacy` and `resumeLegacy` exist only for SDK
 * 2.0–2.5 (src/gateway/e2b/legacy.ts).
 */
export const e2bApi = defineRoutes({
  createSandboxV1: { method: 'POST', path: '/sandboxes', body: NewSandbox, status: 201, response: Sandbox },
  createSandbox: { method: 'POST', path: '/v2/sandboxes', body: NewSandbox, status: 201, response: Sandbox },
  listSandboxes: { method: 'GET', path: '/v2/sandboxes', query: ListQuery, status: 200, response: z.array(ListedSandbox) },
  listSandboxesV1: { method: 'GET', path: '/sandboxes', query: LegacyListQuery, status: 200, response: z.array(ListedSandbox) },
  connectV1: { method: 'POST', path: '/sandboxes/{id}/connect', body: ConnectBody, status: 200, response: Sandbox },
  connect: { method: 'POST', path: '/v2/sandboxes/{id}/connect', body: ConnectBody, status: 200, response: Sandbox },
  getSandbox: { method: 'GET', path: '/sandboxes/{id}', status: 200, response: SandboxDetail },
  killSandbox: { method: 'DELETE', path: '/sandboxes/{id}', status: 204 },
  setTimeoutLegacy: { method: 'POST', path: '/sandboxes/{id}/timeout', body: TimeoutBody, status: 204 },
  refresh: { method: 'POST', path: '/sandboxes/{id}/refreshes', body: RefreshBody, status: 204 },
  resumeLegacy: { method: 'POST', path: '/sandboxes/{id}/resume', body: ResumeBody, status: 201, response: Sandbox },
  pause: { method: 'POST', path: '/sandboxes/{id}/pause', body: PauseBody, status: 204 },
  metrics: { method: 'GET', path: '/sandboxes/{id}/metrics', query: MetricsQuery, status: 200, response: z.array(SandboxMetric) },
  fork: { method: 'POST', path: '/sandboxes/{id}/fork', body: ForkBody, status: 201, response: z.array(ForkResult) },
  createSnapshot: { method: 'POST', path: '/sandboxes/{id}/snapshots', body: SnapshotBody, status: 201, response: SnapshotInfo },
  listSnapshots: { method: 'GET', path: '/snapshots', query: SnapshotsQuery, status: 200, response: z.array(SnapshotInfo) },
  deleteSnapshot: { method: 'DELETE', path: '/templates/{template}', status: 204 },
  setNetwork: { method: 'PUT', path: '/sandboxes/{id}/network', body: NetworkConfig, status: 204 },
});

export type E2bApi = typeof e2bApi;
