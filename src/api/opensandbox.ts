/**
 * OpenSandbox's lifecycle API (its published spec, github.com/opensandbox-group/OpenSandbox
 * `specs/sandbox-lifecycle.yml`): the request and answer bodies the official SDKs send and parse,
 * field names exact, and the route table the façade (src/gateway/opensandbox/) serves under
 * `/opensandbox` and `/opensandbox/v1`. Fields agentbox does not act on are accepted (the objects
 * are loose) so newer SDKs keep working; docs/opensandbox.md lists what each one does here.
 *
 * Imports nothing of ours outside src/api/ (docs/architecture.md, rule “api is the ground floor”).
 */
import { z } from 'zod';
import { MAX_TIMEOUT_SECONDS } from './native.ts';
import { defineRoutes, repeated } from './route.ts';


/** The SDKs' default entrypoint: "keep the container alive", which agentbox's guest already does. */
export const KEEP_ALIVE_ENTRYPOINT = ['tail', '-f', '/dev/null'];

/** Extension key naming the pool a create allocates from (a pool is named by its template here). */
export const POOL_REF_EXTENSION = 'poolRef';

const StringMap = z.record(z.string().min(1).max(128), z.string().max(32_768));

export const ImageSpec = z.looseObject({
  uri: z.string().min(1).max(512),
  auth: z.looseObject({ username: z.string(), password: z.string() }).nullish(),
});

export const NetworkRule = z.looseObject({ action: z.enum(['allow', 'deny']), target: z.string().min(1).max(253) });
export const NetworkPolicy = z.looseObject({
  defaultAction: z.enum(['allow', 'deny']).nullish(),
  egress: z.array(NetworkRule).max(256).nullish(),
});

export const CreateSandboxRequest = z.looseObject({
  image: ImageSpec.nullish(),
  snapshotId: z.string().min(1).max(200).nullish(),
  /** Seconds until the sandbox is deleted; null or absent: no automatic expiry (here: the 24 h ceiling). */
  timeout: z.number().int().min(60).max(MAX_TIMEOUT_SECONDS).nullish(),
  /** Kubernetes quantities: `cpu` "500m" or "2", `memory` "512Mi" or "2Gi". */
  resourceLimits: z.record(z.string(), z.string()).nullish(),
  /** The server tolerates null values (an unset variable). */
  env: z.record(z.string().min(1).max(128), z.string().max(32_768).nullable()).nullish(),
  metadata: StringMap.nullish(),
  entrypoint: z.array(z.string().max(32_768)).min(1).max(4096).nullish(),
  networkPolicy: NetworkPolicy.nullish(),
  volumes: z.array(z.unknown()).nullish(),
  extensions: z.record(z.string(), z.string()).nullish(),
});
export type CreateSandboxRequest = z.infer<typeof CreateSandboxRequest>;

export const SandboxStatus = z.object({
  state: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionAt: z.string().optional(),
});

/** The Sandbox of get and list; `expiresAt` is omitted when the sandbox does not expire (now: while paused). */
export const Sandbox = z.object({
  id: z.string(),
  image: z.object({ uri: z.string() }).optional(),
  status: SandboxStatus,
  metadata: z.record(z.string(), z.string()).optional(),
  entrypoint: z.array(z.string()),
  expiresAt: z.string().optional(),
  createdAt: z.string(),
  /** Set when the sandbox was allocated from a pool (`extensions.poolRef`). */
  allocation: z.object({ mode: z.literal('pool'), poolRef: z.string(), state: z.literal('allocated') }).optional(),
});

export const CreateSandboxResponse = Sandbox.omit({ image: true, allocation: true });

export const ListSandboxesQuery = z.object({
  /** Repeatable; a sandbox in any of them matches. */
  state: repeated(z.array(z.string().max(32)).max(16).optional()),
  /** One `k=v&k2=v2` string (URL-encoded); every pair must match. */
  metadata: repeated(z.array(z.string().max(2048)).max(64).optional()),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(20),
});

export const ListSandboxesResponse = z.object({
  items: z.array(Sandbox),
  pagination: z.object({
    page: z.number().int(), pageSize: z.number().int(), totalItems: z.number().int(), totalPages: z.number().int(), hasNextPage: z.boolean(),
  }),
});

export const RenewRequest = z.looseObject({ expiresAt: z.iso.datetime({ offset: true }) });
export const RenewResponse = z.object({ expiresAt: z.string() });

export const EndpointQuery = z.object({
  use_server_proxy: z.enum(['true', 'false', 'True', 'False', '1', '0']).optional(),
  expires: z.string().optional(),
});
/** `endpoint` is host[:port][/path] without a scheme; the SDKs merge `headers` into every request to it. */
export const Endpoint = z.object({ endpoint: z.string(), headers: z.record(z.string(), z.string()).optional() });

/** Where the SDKs reach OpenSandbox's egress sidecar (DEFAULT_EGRESS_PORT); the façade answers it itself. */
export const EGRESS_PORT = 18080;
/** `PATCH /policy` on the egress port: rules merged by target. */
export const EgressPatch = z.array(NetworkRule).max(256);
/** `DELETE /policy` on the egress port: the targets whose rules go. */
export const EgressDelete = z.array(z.string().min(1).max(253)).max(256);
/** `POST|PUT /policy`: the whole policy replaced. */
export const EgressReplace = NetworkPolicy;

/** SDK 0.1.11 reports each create here, fire-and-forget; agentbox keeps its own metrics. */
export const MetricsEvent = z.looseObject({ eventType: z.string().optional() });

/** OpenSandbox's error body: a namespaced code (`DOCKER::SANDBOX_NOT_FOUND`) and a message. */
export const ErrorBody = z.object({ code: z.string(), message: z.string() });

/** Paths relative to `/opensandbox` or `/opensandbox/v1`, in match order. */
export const openSandboxApi = defineRoutes({
  createSandbox: { method: 'POST', path: '/sandboxes', body: CreateSandboxRequest, status: 202, response: CreateSandboxResponse },
  listSandboxes: { method: 'GET', path: '/sandboxes', query: ListSandboxesQuery, status: 200, response: ListSandboxesResponse },
  getSandbox: { method: 'GET', path: '/sandboxes/{id}', status: 200, response: Sandbox },
  deleteSandbox: { method: 'DELETE', path: '/sandboxes/{id}', status: 204 },
  pause: { method: 'POST', path: '/sandboxes/{id}/pause', status: 202 },
  resume: { method: 'POST', path: '/sandboxes/{id}/resume', status: 202 },
  renewExpiration: { method: 'POST', path: '/sandboxes/{id}/renew-expiration', body: RenewRequest, status: 200, response: RenewResponse },
  endpoint: { method: 'GET', path: '/sandboxes/{id}/endpoints/{port}', query: EndpointQuery, status: 200, response: Endpoint },
  metricsEvent: { method: 'POST', path: '/metrics/events', body: MetricsEvent, status: 204 },
});

export type OpenSandboxApi = typeof openSandboxApi;
