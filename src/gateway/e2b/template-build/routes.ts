/**
 * The handlers of E2B's template build API (src/api/e2b-template-build.ts). A build is requested
 * (`POST /v3/templates`: the template's id is its agentbox name), its COPY archives are uploaded to
 * one-time URLs this server hands out (upload.ts), and `POST /v2/templates/{id}/builds/{build}`
 * turns the instructions into an agentbox recipe (recipe.ts) built by the backend like any other
 * (`templates.build`: the tenant's concurrentBuilds quota, steps inside a sandbox, the engine's
 * build and step deadlines); the recipe's progress lines are the build's log entries.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AgentboxError, asAgentboxError, notFound } from '../../../api/errors.ts';
import { e2bTemplateBuildApi, type E2bTemplateBuildApi, type LogLevel } from '../../../api/e2b-template-build.ts';
import { TemplateName } from '../../../api/native.ts';
import { routeList, type Route } from '../../../api/route.ts';
import type { Principal, SandboxBackend } from '../../../server/backend.ts';
import { Router } from '../../router.ts';
import { templateName, type ControlApi, type ControlHandlers } from '../control.ts';
import { e2bRecipe } from './recipe.ts';
import type { BuildRecords } from './records.ts';

/**
 * What one build's COPY instructions may bring: within the recipe's own bounds (FILE_LIMITS in
 * src/engine/images/recipe.ts, which the build checks again) so a refusal names the COPY.
 */
const COPY_LIMITS = { maxFiles: 1000, maxBytes: 16 * 1024 * 1024 };

/** Path of the upload URLs under the API's prefix (`/e2b` or the root of `api.<domain>`). */
export const UPLOAD_PATH = '/template-uploads/';

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface TemplateBuildDeps {
  backend: SandboxBackend;
  records: BuildRecords;
}

/** The address the SDK reached this API at (scheme, host and prefix), for the upload URLs it is handed. */
function apiBase(req: IncomingMessage): string {
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  return `${scheme}://${req.headers.host ?? 'localhost'}${path.slice(0, path.lastIndexOf('/templates/'))}`;
}

/** `name`, `name:tag` or `team/name:tag` → the agentbox template name, checked. */
function buildName(raw: string): string {
  const name = templateName(raw);
  const ok = TemplateName.safeParse(name);
  if (!ok.success) throw new AgentboxError('invalid_argument', `template name '${name}' is invalid: ${ok.error.issues[0]?.message}`, { details: { template: name } });
  return name;
}

export function templateBuildHandlers(d: TemplateBuildDeps): ControlHandlers<E2bTemplateBuildApi> {
  const { records } = d;
  const templates = d.backend.templates;

  /** Refuses early what the build would refuse late: a tenant building over a public template. */
  function checkWritable(p: Principal, name: string): void {
    const existing = templates.list(p).find((t) => t.name === name);
    if (!p.admin && existing?.visibility === 'public') {
      throw new AgentboxError('permission_denied', `'${name}' is a public template, which only an admin can build: choose another name for yours`, { details: { template: name } });
    }
  }

  return {
    async requestBuild({ principal, body }) {
      const raw = body.name ?? body.alias;
      if (!raw) throw new AgentboxError('invalid_argument', 'body: name is required (the template\'s name, optionally name:tag)');
      const name = buildName(raw);
      checkWritable(principal, name);
      const tag = raw.includes(':') ? raw.slice(raw.lastIndexOf(':') + 1) : 'default';
      const r = records.request(principal.tenantId, name, {
        tags: [...new Set([tag, ...(body.tags ?? [])])],
        ...(body.cpuCount ? { cpu: body.cpuCount } : {}), ...(body.memoryMB ? { memoryMiB: body.memoryMB } : {}),
      });
      return { body: { templateID: name, buildID: r.buildID, names: [name], aliases: [name], tags: r.tags, public: principal.admin } };
    },

    async fileUploadLink({ req, principal, params }) {
      if (!/^[0-9a-f]{64}$/.test(params.hash)) throw new AgentboxError('invalid_argument', `files hash '${params.hash}' is not a sha256 in hex`);
      if (!records.hasTemplate(principal.tenantId, params.templateID)) throw notFound('template build', params.templateID);
      const link = records.uploadLink(principal.tenantId, params.hash);
      return { body: link.present ? { present: true } : { present: false, url: `${apiBase(req)}${UPLOAD_PATH}${link.token}` } };
    },

    async startBuild({ principal, params, body }) {
      const r = records.get(principal.tenantId, params.templateID, params.buildID);
      if (r.status !== 'waiting') throw new AgentboxError('conflict', `build ${r.buildID} was started already (it is ${r.status}); request a new build (POST /v3/templates)`);
      let translated: ReturnType<typeof e2bRecipe>;
      try {
        translated = e2bRecipe({
          name: r.templateID, start: body, limits: COPY_LIMITS, upload: (hash) => records.upload(principal.tenantId, hash),
          ...(r.cpu ? { cpu: r.cpu } : {}), ...(r.memoryMiB ? { memoryMiB: r.memoryMiB } : {}),
        });
      } catch (err) {
        const e = asAgentboxError(err);
        const step = e.details?.step;
        records.finish(r, { ready: false, message: e.message, ...(typeof step === 'number' ? { step: String(step) } : {}) });
        throw e;
      }
      r.status = 'building';
      records.log(r, `Building template '${r.templateID}' from ${JSON.stringify(translated.recipe.from)}: ${body.steps.length} steps`);
      const { stepOfRunLine } = translated;
      // E2B ends a build by running the start command until the ready command passes, and
      // snapshotting (https://e2b.dev/docs/template/start-ready-command): the recipe lets both be
      // snapshotted, so the build does so before it is kept. Through a promise even if a backend
      // throws at once: the record must end either way.
      Promise.resolve().then(() => templates.build(principal, translated.recipe, (line) => records.log(r, line))).then(
        () => records.finish(r, { ready: true }),
        (err: unknown) => {
          const e = asAgentboxError(err);
          // The engine names the failed run line (src/engine/build-steps.ts); the SDK wants its own step.
          const line = e.details?.step;
          const step = typeof line === 'number' && line > 0 ? stepOfRunLine[line - 1] : undefined;
          records.finish(r, { ready: false, message: e.message, ...(step ? { step } : {}) });
        },
      );
      // An explicit empty body: openapi-fetch (the JS SDK) parses a 202 as JSON unless its length is 0.
      return { headers: { 'Content-Length': '0' } };
    },

    async buildStatus({ principal, params, query: q }) {
      const r = records.get(principal.tenantId, params.templateID, params.buildID);
      const min = LEVELS.indexOf(q.level ?? 'debug');
      const shown = r.entries.filter((e) => LEVELS.indexOf(e.level) >= min).slice(q.logsOffset, q.limit === undefined ? undefined : q.logsOffset + q.limit);
      return {
        body: {
          templateID: r.templateID, buildID: r.buildID, status: r.status, logEntries: shown,
          logs: shown.map((e) => `[${e.timestamp}] ${e.message}`),
          ...(r.reason ? { reason: r.reason } : {}),
        },
      };
    },

    async templateByAlias({ principal, params }) {
      const name = templateName(params.alias);
      const t = templates.list(principal).find((x) => x.name === name);
      if (!t) throw notFound('template', name);
      return { body: { templateID: t.name, public: t.visibility === 'public' } };
    },

    async assignTags() {
      throw new AgentboxError('not_supported', 'template tags are not supported by agentbox: a template is one name (build it as name, not name:tag, to replace it)');
    },
    async removeTags() {
      throw new AgentboxError('not_supported', 'template tags are not supported by agentbox: a template is one name (build it as name, not name:tag, to replace it)');
    },
  };
}

export function templateBuildApi(d: TemplateBuildDeps): ControlApi<E2bTemplateBuildApi> {
  return { router: new Router<Route>(routeList(e2bTemplateBuildApi)), handlers: templateBuildHandlers(d) };
}
