/**
 * A template is a declarative recipe: where the root filesystem comes from (Debian packages
 * through mmdebstrap, a busybox-only image, another template, or an imported OCI image), files
 * to add, run steps, and how the sandbox starts. Recipes are YAML or JSON; their canonical
 * JSON hash names the build result, so an unchanged recipe is never built twice.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AgentboxError } from '../../api/errors.ts';
import { ImageRefInArchive } from '../../api/native.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Bounds of a recipe's `files`: they travel in the request body and are staged on disk. */
export const FILE_LIMITS = { count: 1000, pathChars: 1024, totalBytes: 16 * 1024 * 1024 };

/**
 * An absolute path inside the image: no `.` or `..` segment, no empty segment, no NUL or other
 * control character. The files are copied in inside the build sandbox, so a path can never reach
 * the host; refusing odd paths also keeps the staging script free of surprises.
 */
const ImagePath = z.string().max(FILE_LIMITS.pathChars).superRefine((p, ctx) => {
  const why = !p.startsWith('/') ? 'file paths are absolute (start with /)'
    : /[\x00-\x1f\x7f]/.test(p) ? 'file paths may not contain NUL, newlines or other control characters'
      : p === '/' || p.endsWith('/') ? 'a file path names a file, not a directory (no trailing /)'
        : p.slice(1).split('/').some((s) => s === '' || s === '.' || s === '..') ? 'file paths may not contain "..", "." or empty segments: write the plain absolute path'
          : undefined;
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/**
 * A mirror is an http(s) URL; which hosts are allowed is the engine's build policy
 * (layers.ts `checkMirror`), because the address a name resolves to is only known at build time.
 */
const MirrorUrl = z.string().max(2048).url().refine((u) => /^https?:$/.test(new URL(u).protocol), 'a Debian mirror is an http:// or https:// URL');

const FromSchema = z.union([
  z.object({
    debian: z.object({
      suite: z.string().regex(/^[a-z]+$/).default('bookworm'),
      variant: z.enum(['minbase', 'essential', 'apt', 'required', 'important', 'standard']).default('minbase'),
      mirror: MirrorUrl.optional(),
    }).strict(),
  }).strict(),
  z.object({ busybox: z.object({}).strict() }).strict(),
  z.object({ template: z.string().regex(NAME) }).strict(),
  z.object({ oci: z.object({
    /** Inside the engine's import directory (see layers.ts `resolveImportPath`). */
    path: z.string().min(1).max(4096).startsWith('/', 'oci.path is an absolute path inside the import directory'),
    ref: ImageRefInArchive.optional(),
  }).strict() }).strict(),
]);

export const TemplateRecipeSchema = z.object({
  name: z.string().regex(NAME, 'template names are 1-63 chars of a-z, 0-9, ".", "_", "-", starting with a letter or digit'),
  description: z.string().max(500).optional(),
  from: FromSchema,
  /** Debian packages (only with `from.debian`). */
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'not a Debian package name')).default([]),
  files: z.array(z.object({
    path: ImagePath,
    content: z.string(),
    /** `base64`: `content` is base64 (binary files, as E2B's COPY uploads them); absent: UTF-8 text. Optional, so older recipes keep their hash. */
    encoding: z.literal('base64').optional(),
    /** Permission bits only: setuid, setgid and sticky are refused (a run step can chmod if it must). */
    mode: z.number().int().min(0).max(0o777, 'file modes are 0 to 0o777: setuid, setgid and sticky bits are not allowed').default(0o644),
  }).strict()).max(FILE_LIMITS.count, `at most ${FILE_LIMITS.count} files per recipe`).default([]),
  /** Shell lines run in order as root inside a sandbox (no network: packages come from `packages`). */
  run: z.array(z.string().min(1)).default([]),
  env: z.record(z.string().regex(ENV_KEY), z.string()).default({}),
  workdir: z.string().startsWith('/').default('/'),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('root'),
  /** Started by the guest at boot; its ready check gates `start` of the sandbox. */
  start: z.object({
    cmd: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    user: z.string().optional(),
    /**
     * Started once, in the template's golden snapshot (engine/golden-boot.ts), once its ready
     * check passes: creates restore it running instead of starting it, as E2B's templates are
     * snapshotted with their start command running. Its processes' memory is then the same in
     * every copy (random state included), so only a template whose programs allow that says so.
     * It gets the template's env alone, never a create's, however its sandbox started: it reads
     * the sandbox's env from the guest (GET /envs with the access token), as E2B's code
     * interpreter does. A build through the server's API ends by starting it into that snapshot
     * (server/engine-catalog.ts): a build whose start command cannot get ready is not kept.
     */
    goldenSnapshot: z.boolean().optional(),
  }).strict().optional(),
  ready: z.object({
    cmd: z.array(z.string()).min(1),
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
    /**
     * For a template without a start command: the check passes once, in the template's golden
     * snapshot (engine/golden-boot.ts), and creates restore a sandbox that passed it instead of
     * booting and checking, as E2B snapshots a template once its ready command passed. With a
     * start command, `start.goldenSnapshot` decides. An API build runs the check then, as with
     * `start.goldenSnapshot`.
     */
    goldenSnapshot: z.boolean().optional(),
  }).strict().optional(),
  resources: z.object({
    cpu: z.number().positive().max(64).default(1),
    memoryMiB: z.number().int().min(32).max(262_144).default(512),
    pids: z.number().int().min(32).max(4096).default(1024), // MAX_PIDS in runtime/oci-spec.ts
    /** Size of each sandbox's disk; absent: the engine's default (the engine caps it too). */
    diskMiB: z.number().int().min(32).optional(),
  }).strict().default({ cpu: 1, memoryMiB: 512, pids: 1024 }),
}).strict().superRefine((r, ctx) => {
  const bytes = r.files.reduce((n, f) => n + fileBytes(f).length, 0);
  if (bytes > FILE_LIMITS.totalBytes) {
    ctx.addIssue({ code: 'custom', path: ['files'], message: `files hold ${bytes} bytes, more than ${FILE_LIMITS.totalBytes}: put large content in a parent image (OCI upload) instead` });
  }
  if (!('debian' in r.from) && r.packages.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['packages'], message: 'packages can only be installed on a `from: {debian: …}` template' });
  }
});

export type TemplateRecipe = z.infer<typeof TemplateRecipeSchema>;

/** A recipe file's bytes, decoded as its `encoding` says. */
export const fileBytes = (f: { content: string; encoding?: 'base64' | undefined }): Buffer => Buffer.from(f.content, f.encoding ?? 'utf8');

export function parseRecipe(input: unknown): TemplateRecipe {
  const parsed = TemplateRecipeSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new AgentboxError('invalid_argument', `invalid template recipe at '${first.path.join('.') || '(root)'}': ${first.message}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return parsed.data;
}

/** Parses YAML (JSON is YAML too). */
export function parseRecipeText(text: string): TemplateRecipe {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new AgentboxError('invalid_argument', `template recipe is not valid YAML/JSON: ${(err as Error).message}`);
  }
  return parseRecipe(doc);
}

/** JSON with sorted keys, so equal recipes hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const hashOf = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');
