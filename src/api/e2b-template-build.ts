/**
 * E2B's template build API, as the SDKs' `Template` builder calls it (npm `e2b` ≥2.7 and PyPI
 * `e2b`: `Template.build`, `buildInBackground`, `getBuildStatus`, `exists`; E2B's published spec,
 * github.com/e2b-dev/E2B `spec/`): request a build, upload each COPY's files, start the build,
 * poll its status and logs. Request objects are loose like the rest of E2B's API (src/api/e2b.ts);
 * answer field names are exact (the Python SDK parses them with strict enums).
 */
import { z } from 'zod';
import { defineRoutes } from './route.ts';

/** `POST /v3/templates`: `name` may carry a tag (`name:tag`); `alias` is its deprecated spelling. */
export const BuildRequest = z.looseObject({
  name: z.string().min(1).max(200).optional(),
  alias: z.string().min(1).max(200).optional(),
  tags: z.array(z.string().min(1).max(128)).max(32).nullish(),
  cpuCount: z.number().int().min(1).max(64).nullish(),
  memoryMB: z.number().int().min(128).max(262_144).nullish(),
});

export const BuildRequestAnswer = z.object({
  templateID: z.string(),
  buildID: z.string(),
  names: z.array(z.string()),
  aliases: z.array(z.string()),
  tags: z.array(z.string()),
  public: z.boolean(),
});

/** One builder instruction: `COPY [src, dest, user, mode]`, `RUN [cmd, user?]`, `ENV [k, v, …]`, `WORKDIR [dir]`, `USER [name]`. */
export const BuildStep = z.looseObject({
  type: z.string().min(1).max(32),
  args: z.array(z.string().max(1024 * 1024)).max(2000).default([]),
  filesHash: z.string().max(128).nullish(),
  force: z.boolean().nullish(),
});
export type BuildStep = z.infer<typeof BuildStep>;

/** `POST /v2/templates/{templateID}/builds/{buildID}`: exactly one of fromImage / fromTemplate. */
export const BuildStart = z.looseObject({
  fromImage: z.string().max(512).nullish(),
  fromTemplate: z.string().max(200).nullish(),
  fromImageRegistry: z.record(z.string(), z.unknown()).nullish(),
  steps: z.array(BuildStep).max(1000).default([]),
  startCmd: z.string().max(64 * 1024).nullish(),
  readyCmd: z.string().max(64 * 1024).nullish(),
  force: z.boolean().nullish(),
});
export type BuildStart = z.infer<typeof BuildStart>;

export const FileUploadAnswer = z.object({
  present: z.boolean(),
  url: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevel>;

export const BuildLogEntry = z.object({
  timestamp: z.string(),
  level: LogLevel,
  message: z.string(),
  step: z.string().optional(),
});
export type BuildLogEntry = z.infer<typeof BuildLogEntry>;

export const BuildStatusName = z.enum(['building', 'waiting', 'ready', 'error']);
export type BuildStatusName = z.infer<typeof BuildStatusName>;

export const BuildStatusQuery = z.looseObject({
  logsOffset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  level: LogLevel.optional(),
});

export const BuildInfo = z.object({
  templateID: z.string(),
  buildID: z.string(),
  status: BuildStatusName,
  logEntries: z.array(BuildLogEntry),
  /** Deprecated by E2B (“always empty”), kept for older clients: the same lines as text. */
  logs: z.array(z.string()),
  reason: z.object({ message: z.string(), step: z.string().optional(), logEntries: z.array(BuildLogEntry).optional() }).optional(),
});

export const AliasAnswer = z.object({ templateID: z.string(), public: z.boolean() });

export const TagsBody = z.looseObject({ target: z.string().optional(), name: z.string().optional(), tags: z.array(z.string()).optional() });

export const e2bTemplateBuildApi = defineRoutes({
  requestBuild: { method: 'POST', path: '/v3/templates', body: BuildRequest, status: 202, response: BuildRequestAnswer },
  fileUploadLink: { method: 'GET', path: '/templates/{templateID}/files/{hash}', status: 201, response: FileUploadAnswer },
  startBuild: { method: 'POST', path: '/v2/templates/{templateID}/builds/{buildID}', body: BuildStart, status: 202 },
  buildStatus: { method: 'GET', path: '/templates/{templateID}/builds/{buildID}/status', query: BuildStatusQuery, status: 200, response: BuildInfo },
  templateByAlias: { method: 'GET', path: '/templates/aliases/{alias}', status: 200, response: AliasAnswer },
  assignTags: { method: 'POST', path: '/templates/tags', body: TagsBody, status: 201 },
  removeTags: { method: 'DELETE', path: '/templates/tags', body: TagsBody, status: 204 },
});

export type E2bTemplateBuildApi = typeof e2bTemplateBuildApi;
