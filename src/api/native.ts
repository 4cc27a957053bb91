/**
 * The native REST API (`/v1`): every request and response body as a zod schema. The gateway
 * validates with these, the OpenAPI document (`openapi.ts`) is generated from them and the SDK
 * derives its types from them, so the three never drift apart.
 *
 * Imports nothing of ours outside src/api/ (docs/architecture.md, rule “api is the ground floor”): this is the ground floor.
 */
import { z } from 'zod';
import { SANDBOX_ID_RE } from './ids.ts';
import { repeated } from './route.ts';

/** Sandbox ids (ids.ts): 20 chars of [a-z0-9], never `-` or `.` (host routing splits on `-`). */
export const SandboxId = z.string().regex(SANDBOX_ID_RE, 'a sandbox id is 20 lowercase letters and digits');
export const TemplateName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a template name is 1-63 chars of [a-z0-9._-]');
export const RuntimeName = z.enum(['gvisor', 'runc']);

/**
 * Server-side sandbox lifecycle states. `creating` and `failed` are visible only briefly or after
 * an error; `killed` sandboxes disappear from listings.
 */
export const SandboxStateName = z.enum(['creating', 'running', 'paused', 'killed', 'failed']);
/** `pause` keeps memory and processes; `pause_filesystem` keeps only files (resume boots again). */
/** The states a list may filter on (a killed sandbox is gone). */
export const ListedState = z.enum(['creating', 'running', 'paused', 'failed']);

export const OnTimeout = z.enum(['kill', 'pause', 'pause_filesystem']);

/** Keys and values are bounded so one tenant cannot bloat the state database. */
const StringMap = (maxEntries: number, maxValue: number) =>
  z.record(z.string().min(1).max(128), z.string().max(maxValue))
    .refine((m) => Object.keys(m).length <= maxEntries, { message: `at most ${maxEntries} entries` });

export const EnvMap = StringMap(256, 32_768);
export const MetadataMap = StringMap(64, 1024);

/** One hour by default elsewhere; here 24 h is the hard ceiling of a single timeout. */
export const MAX_TIMEOUT_SECONDS = 86_400;
export const DEFAULT_TIMEOUT_SECONDS = 300;

export const NetworkPolicy = z.object({
  defaultAction: z.enum(['allow', 'deny']).default('allow'),
  allow: z.array(z.string().min(1).max(253)).max(256).default([]),
  deny: z.array(z.string().min(1).max(253)).max(256).default([]),
}).strict();

/** A volume's name: unique per tenant; E2B's rule (letters, digits, `_`, `-`). */
export const VolumeName = z.string().regex(/^[a-zA-Z0-9_-]{1,63}$/, 'a volume name is 1 to 63 letters, digits, _ or -');

/** A volume mounted read-write at an absolute path inside the sandbox (docs/volumes.md lists the paths refused). */
export const VolumeMountBody = z.object({ name: z.string().min(1).max(63), path: z.string().min(1).max(4096) }).strict().meta({ id: 'VolumeMount' });

export const CreateVolumeBody = z.object({
  name: VolumeName,
  sizeMiB: z.number().int().min(32).max(16_777_216).optional()
    .describe("the volume's size; at most the policy's diskMiB, which is also the default; a full volume is ENOSPC inside"),
}).strict().meta({ id: 'CreateVolume' });

export const Volume = z.object({
  id: z.string(),
  name: z.string(),
  sizeMiB: z.number().int(),
  createdAt: z.string(),
  /** Bearer token of the volume's content API (E2B's `/volumecontent`). */
  token: z.string(),
}).meta({ id: 'Volume' });

export const VolumeList = z.object({ volumes: z.array(Volume) }).meta({ id: 'VolumeList' });

export const CreateSandboxBody = z.object({
  template: TemplateName,
  runtime: RuntimeName.optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional()
    .describe(`seconds until onTimeout applies; default ${DEFAULT_TIMEOUT_SECONDS}`),
  onTimeout: OnTimeout.optional().describe('what happens at the timeout: kill, pause (memory and processes kept) or pause_filesystem (files only); default kill'),
  autoResume: z.boolean().optional().describe('resume a paused sandbox when traffic for one of its ports arrives'),
  env: EnvMap.optional(),
  metadata: MetadataMap.optional(),
  cpu: z.number().positive().max(64).optional()
    .describe('CPU cores; at most the policy\'s sandboxCpuMax (clamped to the host\'s cores); default from the template'),
  memoryMiB: z.number().int().min(32).max(262_144).optional()
    .describe('memory limit; at most the policy\'s sandboxMemoryMiBMax (clamped to the host\'s memory); default from the template'),
  diskMiB: z.number().int().min(32).max(16_777_216).optional()
    .describe("size of the sandbox's disk (its writable layer); at most the policy's diskMiB, which is also the default; a full disk is ENOSPC inside"),
  network: NetworkPolicy.optional(),
  volumes: z.array(VolumeMountBody).max(16).optional().describe('volumes of the caller\'s tenant to mount (gvisor only); such a sandbox cannot be snapshotted or forked'),
}).strict().meta({ id: 'CreateSandbox' });

export const Sandbox = z.object({
  id: z.string(),
  template: z.string(),
  runtime: RuntimeName,
  state: SandboxStateName,
  metadata: z.record(z.string(), z.string()),
  createdAt: z.string(),
  /** RFC 3339; absent while paused (the timer stops) or when the sandbox never expires. */
  expiresAt: z.string().optional(),
  timeoutSeconds: z.number().int(),
  onTimeout: OnTimeout,
  autoResume: z.boolean(),
  cpu: z.number(),
  memoryMiB: z.number().int(),
  /** Size of the sandbox's disk; absent while the engine does not know the sandbox. */
  diskMiB: z.number().int().optional(),
  /** What the sandbox's files take of its disk; absent while the disk is not mounted. */
  disk: z.object({ usedBytes: z.number().int(), limitBytes: z.number().int() }).optional(),
  /** Set when the create was served from a warm pool. */
  fromPool: z.boolean(),
  envdVersion: z.string().optional(),
  error: z.string().optional(),
}).meta({ id: 'Sandbox' });

export const SandboxList = z.object({
  sandboxes: z.array(Sandbox),
  /** Pass as `nextToken` to get the next page; absent on the last page. */
  nextToken: z.string().optional(),
}).meta({ id: 'SandboxList' });

export const ListSandboxesQuery = z.object({
  state: z.string().regex(/^(creating|running|paused|failed)(,(creating|running|paused|failed))*$/)
    .transform((list) => list.split(',')).pipe(z.array(ListedState)).optional()
    .describe('comma-separated states'),
  /** `metadata=k=v&metadata=k2=v2` or one `k=v&k2=v2` string (URL-encoded); all pairs must match. */
  metadata: repeated(z.array(z.string().max(2048)).max(64).optional()),
  template: TemplateName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  nextToken: z.string().max(200).optional(),
}).strict();

export const TimeoutBody = z.object({
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS),
}).strict().meta({ id: 'SetTimeout' });

export const ForkBody = z.object({
  metadata: MetadataMap.optional(),
  timeoutSeconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS).optional(),
}).strict().meta({ id: 'Fork' });

/** Most bytes an exec's `stdin` may hold, in either encoding. */
export const MAX_EXEC_STDIN = 8 * 1024 * 1024;

/**
 * How an exec's `stdin`, `stdout` and `stderr` carry bytes in JSON. `utf8` (the default) is text:
 * output that is not UTF-8 comes back with U+FFFD in place of the bytes it cannot show. `base64`
 * is byte-exact, for binary data or for a caller that writes the bytes on unchanged (the CLI).
 */
export const ExecEncoding = z.enum(['utf8', 'base64']);

/**
 * Standard base64 (RFC 4648 section 4) with its padding: what Buffer encodes and the only form
 * taken. A length check beside a flat pattern, since a pattern that repeats a group of four
 * overflows V8's regexp stack on a text of megabytes.
 */
const isBase64 = (s: string) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);

/** Bytes a base64 text decodes to (its form checked by isBase64). */
const base64Bytes = (s: string) => (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);

export const ExecBody = z.object({
  /** A string runs through `/bin/sh -c`; an array is an argv. */
  cmd: z.union([z.string().min(1).max(131_072), z.array(z.string().max(131_072)).min(1).max(4096)]),
  env: EnvMap.optional(),
  cwd: z.string().min(1).max(4096).optional(),
  user: z.string().min(1).max(64).regex(/^[a-z_][a-z0-9_-]*$/i).optional(),
  timeoutMs: z.number().int().min(0).max(MAX_TIMEOUT_SECONDS * 1000).optional(),
  // The bound of the base64 form; each encoding's own bound is checked below, with the bytes.
  stdin: z.string().max(Math.ceil(MAX_EXEC_STDIN / 3) * 4).optional(),
  encoding: ExecEncoding.optional().describe(
    'how stdin, stdout and stderr carry bytes: utf8 text (default) or base64, which is byte-exact; '
    + 'in a stream each line\'s data is base64 of its own bytes'),
}).strict().superRefine((b, ctx) => {
  if (b.stdin === undefined) return;
  // Zod counts UTF-16 code units, and a text never has more of them than UTF-8 bytes, so a
  // client that keeps its text's bytes within the bound always passes.
  if (b.encoding !== 'base64') {
    if (b.stdin.length > MAX_EXEC_STDIN) ctx.addIssue({ code: 'custom', path: ['stdin'], message: `stdin is over ${MAX_EXEC_STDIN} characters` });
  } else if (!isBase64(b.stdin)) {
    ctx.addIssue({ code: 'custom', path: ['stdin'], message: 'stdin is not base64 (standard alphabet, padded), as encoding "base64" says it is' });
  } else if (base64Bytes(b.stdin) > MAX_EXEC_STDIN) {
    ctx.addIssue({ code: 'custom', path: ['stdin'], message: `stdin decodes to over ${MAX_EXEC_STDIN} bytes` });
  }
}).meta({ id: 'Exec' });

export const ExecResult = z.object({
  exitCode: z.number().int(),
  stdout: z.string().describe('the output, in the request\'s encoding'),
  stderr: z.string().describe('the output, in the request\'s encoding'),
  status: z.string().optional(),
  truncated: z.boolean().optional().describe(
    "true when stdout or stderr passed the server's per-stream cap (16 MiB unless the operator set "
    + 'maxExecOutputBytes) and holds only its first bytes; stream with Accept: application/x-ndjson to get everything'),
}).meta({ id: 'ExecResult' });

/**
 * One line of an `application/x-ndjson` exec stream. `stdout`/`stderr` carry the output in the
 * request's encoding: UTF-8 text, or base64 of the line's own bytes (so each line decodes alone).
 * Exactly one `end` or `error` line closes the stream.
 */
export const ExecEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stdout'), data: z.string() }),
  z.object({ type: z.literal('stderr'), data: z.string() }),
  z.object({ type: z.literal('end'), exitCode: z.number().int(), status: z.string().optional() }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]).meta({ id: 'ExecEvent' });

/**
 * Paths inside a sandbox: absolute, no `..` segment, no NUL. The guest would confine them to the
 * sandbox's own root anyway; refusing them here makes mistakes loud instead of surprising.
 */
export const SandboxPath = z.string().min(1).max(4096)
  .refine((p) => p.startsWith('/'), { message: 'path must be absolute' })
  .refine((p) => !p.includes('\0'), { message: 'path must not contain NUL' })
  .refine((p) => !p.split('/').includes('..'), { message: 'path must not contain ".." segments' });

export const FilePathQuery = z.object({ path: SandboxPath }).strict();
export const LogsQuery = z.object({
  /** Keep the response open and send what the sandbox logs next, until it ends or the client leaves. */
  follow: z.stringbool().default(false),
}).strict();
/** What a running sandbox uses now, from its cgroup (`agentbox top`). */
export const SandboxUsage = z.object({
  /** CPU time consumed since it started, nanoseconds. */
  cpuNanos: z.number(),
  /** Memory charged to its cgroup, bytes. */
  memoryBytes: z.number(),
  pids: z.number().int(),
  disk: z.object({ usedBytes: z.number().int(), limitBytes: z.number().int() }).optional(),
}).meta({ id: 'SandboxUsage' });
export const ListFilesQuery = z.object({
  path: SandboxPath,
  depth: z.coerce.number().int().min(1).max(32).default(1),
}).strict();

export const FileEntry = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'dir', 'symlink', 'other']),
  size: z.number(),
  mode: z.number().int(),
  modifiedTime: z.string().optional(),
}).meta({ id: 'FileEntry' });
export const FileList = z.object({ entries: z.array(FileEntry) }).meta({ id: 'FileList' });

/** A change under a watched directory; `name` is relative to it. */
export const WatchChange = z.object({
  type: z.enum(['create', 'write', 'remove', 'rename', 'chmod']),
  name: z.string(),
}).meta({ id: 'WatchChange' });

/**
 * One line of a `files/watch` NDJSON stream. The first is `start`: the watch is live inside the
 * sandbox, so every change made after it is reported. Then one line per change; an `error` line
 * closes a stream that failed.
 */
export const WatchEvent = z.union([
  z.object({ type: z.literal('start') }),
  WatchChange,
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]).meta({ id: 'WatchEvent' });

/**
 * A template recipe, as in `templates/*.yaml`: `{name, from: {debian|busybox|template|oci},
 * packages, files, run, env, workdir, user, start, ready, resources}`. The engine owns its full
 * schema and validates it (invalid_argument names the offending field); the API checks the name.
 */
export const TemplateBody = z.object({
  name: TemplateName,
  from: z.record(z.string(), z.unknown()),
}).loose().meta({ id: 'TemplateRecipe' });

export const Template = z.object({
  name: z.string(),
  /** `public` templates are usable by every tenant; others only by their owner. */
  visibility: z.enum(['public', 'private']),
  state: z.enum(['ready', 'building', 'missing', 'failed']),
  error: z.string().optional(),
}).meta({ id: 'Template' });
export const TemplateList = z.object({ templates: z.array(Template) }).meta({ id: 'TemplateList' });
/**
 * `POST /v1/templates` with `Accept: application/x-ndjson`: the build's progress lines as they
 * happen, then exactly one `end` (the built template) or `error` line.
 */
export const TemplateBuildEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log'), line: z.string() }),
  z.object({ type: z.literal('end'), template: Template }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]).meta({ id: 'TemplateBuildEvent' });
/** `POST /v1/templates/{template}/oci`: the body is a `docker save` archive; `ref` picks an image in it. */
/**
 * An image in an archive: a `docker save` archive names its images `app:v1` or
 * `registry.example/app:v1`; an OCI layout tags them (`org.opencontainers.image.ref.name`), `v1`.
 * One rule for the upload route and for recipes' `from.oci.ref`.
 */
export const ImageRefInArchive = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,255}$/, 'an image reference in the archive, such as app:v1 (docker save) or v1 (an OCI layout\'s tag)');

export const TemplateUploadQuery = z.object({
  ref: ImageRefInArchive.optional(),
  description: z.string().max(500).optional(),
}).strict();

/** Most members (idle and allocated) one pool may count; the idle ones are bounded by the policy's poolSize. */
export const MAX_POOL_MEMBERS = 10_000;
const PoolCount = z.number().int().min(0).max(MAX_POOL_MEMBERS);

/**
 * OpenSandbox's capacity of a pool (its `Pool.spec.capacitySpec`): keep between bufferMin and
 * bufferMax members idle, and never fewer than poolMin nor more than poolMax members in total
 * (idle + allocated). The arithmetic is src/api/pool-capacity.ts.
 */
export const PoolCapacity = z.object({ bufferMin: PoolCount, bufferMax: PoolCount, poolMin: PoolCount, poolMax: PoolCount });
export type PoolCapacity = z.infer<typeof PoolCapacity>;

/** A pool is sized by `size` (keep exactly that many idle) or by a capacity (all four fields). */
export type PoolSizing = { size: number } | PoolCapacity;

export const PoolBody = z.object({
  size: z.number().int().min(0).max(256).optional().describe('idle sandboxes to keep, at most the policy\'s poolSize; or give the four capacity fields instead'),
  bufferMin: PoolCount.optional().describe('capacity: fewest idle sandboxes (with bufferMax, poolMin, poolMax)'),
  bufferMax: PoolCount.optional().describe('capacity: most idle sandboxes'),
  poolMin: PoolCount.optional().describe('capacity: fewest members in total, idle and allocated'),
  poolMax: PoolCount.optional().describe('capacity: most members in total, idle and allocated'),
  runtime: RuntimeName.optional().describe('runtime class of the warm sandboxes; default: what a create without `runtime` gets'),
}).strict().transform((b, ctx) => {
  const capacity = { bufferMin: b.bufferMin, bufferMax: b.bufferMax, poolMin: b.poolMin, poolMax: b.poolMax };
  const given = Object.values(capacity).filter((v) => v !== undefined).length;
  const runtime = b.runtime ? { runtime: b.runtime } : {};
  if (b.size !== undefined && given === 0) return { sizing: { size: b.size } as PoolSizing, ...runtime };
  if (b.size === undefined && given === 4) return { sizing: capacity as PoolCapacity as PoolSizing, ...runtime };
  ctx.addIssue({ code: 'custom', message: 'give either size or all four of bufferMin, bufferMax, poolMin, poolMax' });
  return z.NEVER;
}).meta({ id: 'SetPool' });
export const Pool = z.object({
  template: z.string(),
  /** Idle sandboxes kept (for a capacity pool: the most it keeps idle at once). */
  size: z.number().int(),
  runtime: RuntimeName,
  /** Warm sandboxes ready to be claimed now. */
  ready: z.number().int(),
  /** Warm sandboxes being started. */
  starting: z.number().int(),
  /** Set when the pool was sized by capacity rather than `size`. */
  capacity: PoolCapacity.optional(),
  /** OpenSandbox's pool status: members in total (idle + allocated), allocated (claimed and alive), available (idle and ready). */
  total: z.number().int(),
  allocated: z.number().int(),
  available: z.number().int(),
}).meta({ id: 'Pool' });
export const PoolList = z.object({ pools: z.array(Pool) }).meta({ id: 'PoolList' });

export const TenantName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a tenant name is 1-63 chars of [a-z0-9-]');
export const TenantBody = z.object({ name: TenantName }).strict().meta({ id: 'CreateTenant' });
export const Tenant = z.object({ id: z.string(), name: z.string(), createdAt: z.string() }).meta({ id: 'Tenant' });
export const TenantList = z.object({ tenants: z.array(Tenant) }).meta({ id: 'TenantList' });

export const KeyBody = z.object({
  /** Tenant the key acts for; default: the caller's tenant. A missing tenant is created. */
  tenant: TenantName.optional(),
  name: z.string().max(128).optional(),
  admin: z.boolean().default(false),
}).strict().meta({ id: 'CreateKey' });
export const ApiKey = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  admin: z.boolean(),
  /** The first characters of the secret, to recognise it. */
  prefix: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
}).meta({ id: 'ApiKey' });
/** Returned once, at creation: the secret is stored only as a hash. */
export const CreatedKey = ApiKey.extend({ key: z.string() }).meta({ id: 'CreatedKey' });
export const KeyList = z.object({ keys: z.array(ApiKey) }).meta({ id: 'KeyList' });

/**
 * The limits of one tenant (docs/security.md, "Policy and quotas"). Counts and totals cover the
 * tenant's claimed sandboxes (warm pool members have their own `pools`/`poolSize` limits); a
 * sandbox that is `creating` or `running` counts as running. Over a limit the server answers
 * 429 `quota_exceeded` with `details: {limit, used, requested, max}`.
 */
export const Limits = z.object({
  runningSandboxes: z.number().int().min(0).max(100_000).describe('sandboxes creating or running at once'),
  pausedSandboxes: z.number().int().min(0).max(100_000).describe('sandboxes paused at once (a checkpoint holds disk)'),
  totalCpu: z.number().min(0).max(100_000).describe('sum of the CPU cores of the running sandboxes'),
  totalMemoryMiB: z.number().int().min(0).max(1 << 30).describe('sum of the memory limits of the running sandboxes'),
  sandboxCpuMax: z.number().positive().max(64).describe('CPU cores of one sandbox; clamped to the host\'s cores'),
  sandboxMemoryMiBMax: z.number().int().min(32).max(262_144).describe('memory of one sandbox; clamped to the host\'s memory'),
  diskMiB: z.number().int().min(64).max(1 << 24).describe('writable disk of one sandbox, recorded on each sandbox for the disk quota'),
  pools: z.number().int().min(0).max(1000).describe('warm pools (templates with a pool of size > 0)'),
  poolSize: z.number().int().min(0).max(256).describe('warm sandboxes in one pool'),
  concurrentBuilds: z.number().int().min(0).max(64).describe('template builds running at once'),
  forksPerCall: z.number().int().min(1).max(100).describe('forks one E2B fork call may ask for'),
  runtimes: z.array(RuntimeName).min(1).max(2)
    .refine((r) => new Set(r).size === r.length, { message: 'runtimes must not repeat' })
    .describe('runtime classes the tenant may use; the first one the server default allows is used when a request names none'),
}).strict().meta({ id: 'Limits' });
/** Some limits: the rest come from the next layer (tenant → defaults → built-in). */
export const LimitsPatch = Limits.partial().strict().meta({ id: 'LimitsPatch' });
/** What the policy file holds: default limits for every tenant and per-tenant overrides, by tenant name. */
export const PolicyDocument = z.object({
  defaults: LimitsPatch.default({}),
  tenants: z.record(TenantName, LimitsPatch).default({}),
}).strict();
export const Policy = z.object({
  /** The limits built into this server version, under everything else. */
  builtin: Limits,
  /** Defaults set by an admin, over the built-in ones. */
  defaults: LimitsPatch,
  /** Limits every tenant gets unless it has overrides: built-in ⊕ defaults, clamped to the host. */
  effective: Limits,
  tenants: z.record(z.string(), LimitsPatch),
  host: z.object({ cpus: z.number(), memoryMiB: z.number() }),
}).meta({ id: 'Policy' });
export const PolicyBody = z.object({ defaults: LimitsPatch }).strict().meta({ id: 'SetPolicy' });
export const Usage = z.object({
  runningSandboxes: z.number().int(),
  pausedSandboxes: z.number().int(),
  totalCpu: z.number(),
  totalMemoryMiB: z.number().int(),
  pools: z.number().int(),
  builds: z.number().int(),
}).meta({ id: 'Usage' });
export const TenantLimits = z.object({
  tenant: z.string(),
  /** What applies to the tenant's keys now (built-in ⊕ defaults ⊕ overrides, clamped to the host). */
  limits: Limits,
  overrides: LimitsPatch,
  usage: Usage,
  /** True for an admin key asking about its own tenant: admin keys are not held to the limits. */
  unlimited: z.boolean().optional(),
}).meta({ id: 'TenantLimits' });

export const ErrorBody = z.object({
  code: z.string().describe('machine-readable; see src/api/errors.ts'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
}).meta({ id: 'Error' });

export type CreateSandboxBody = z.infer<typeof CreateSandboxBody>;
export type VolumeMountBody = z.infer<typeof VolumeMountBody>;
export type CreateVolumeBody = z.infer<typeof CreateVolumeBody>;
export type VolumeView = z.infer<typeof Volume>;
export type SandboxView = z.infer<typeof Sandbox>;
export type SandboxListView = z.infer<typeof SandboxList>;
export type ListSandboxesQuery = z.infer<typeof ListSandboxesQuery>;
export type ExecBody = z.infer<typeof ExecBody>;
export type ExecEncoding = z.infer<typeof ExecEncoding>;
export type ExecResultView = z.infer<typeof ExecResult>;
export type ExecEvent = z.infer<typeof ExecEvent>;
export type FileEntryView = z.infer<typeof FileEntry>;
export type WatchChangeView = z.infer<typeof WatchChange>;
/** What the service streams to a watch route (the route itself adds the `error` line). */
export type WatchEventView = Exclude<z.infer<typeof WatchEvent>, { type: 'error' }>;
export type TemplateBody = z.infer<typeof TemplateBody>;
export type TemplateView = z.infer<typeof Template>;
export type PoolView = z.infer<typeof Pool>;
export type TenantView = z.infer<typeof Tenant>;
export type ApiKeyView = z.infer<typeof ApiKey>;
export type CreatedKeyView = z.infer<typeof CreatedKey>;
export type ForkBody = z.infer<typeof ForkBody>;
export type NetworkPolicyBody = z.infer<typeof NetworkPolicy>;
export type RuntimeName = z.infer<typeof RuntimeName>;
export type LimitsView = z.infer<typeof Limits>;
export type LimitsPatch = z.infer<typeof LimitsPatch>;
export type PolicyDocument = z.infer<typeof PolicyDocument>;
export type PolicyView = z.infer<typeof Policy>;
export type UsageView = z.infer<typeof Usage>;
export type SandboxUsageView = z.infer<typeof SandboxUsage>;
export type TenantLimitsView = z.infer<typeof TenantLimits>;
