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

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const FromSchema = z.union([
  z.object({
    debian: z.object({
      suite: z.string().regex(/^[a-z]+$/).default('bookworm'),
      variant: z.enum(['minbase', 'essential', 'apt', 'required', 'important', 'standard']).default('minbase'),
      mirror: z.string().url().optional(),
    }).strict(),
  }).strict(),
  z.object({ busybox: z.object({}).strict() }).strict(),
  z.object({ template: z.string().regex(NAME) }).strict(),
  z.object({ oci: z.object({ path: z.string().min(1), ref: z.string().optional() }).strict() }).strict(),
]);

export const TemplateRecipeSchema = z.object({
  name: z.string().regex(NAME, 'template names are 1-63 chars of a-z, 0-9, ".", "_", "-", starting with a letter or digit'),
  description: z.string().max(500).optional(),
  from: FromSchema,
  /** Debian packages (only with `from.debian`). */
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'not a Debian package name')).default([]),
  files: z.array(z.object({
    path: z.string().startsWith('/', 'file paths are absolute'),
    content: z.string(),
    mode: z.number().int().min(0).max(0o7777).default(0o644),
  }).strict()).default([]),
  /** Shell lines run in order as root inside a sandbox (no network: packages come from `packages`). */
  run: z.array(z.string().min(1)).default([]),
  env: z.record(z.string().regex(ENV_KEY), z.string()).default({}),
  workdir: z.string().startsWith('/').default('/'),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('root'),
  /** Started by the guest at boot; its ready check gates `start` of the sandbox. */
  start: z.object({ cmd: z.array(z.string()).min(1), cwd: z.string().optional(), user: z.string().optional() }).strict().optional(),
  ready: z.object({
    cmd: z.array(z.string()).min(1),
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
  }).strict().optional(),
  resources: z.object({
    cpu: z.number().positive().max(64).default(1),
    memoryMiB: z.number().int().min(32).max(262_144).default(512),
    pids: z.number().int().min(32).max(4096).default(1024), // MAX_PIDS in runtime/oci-spec.ts
  }).strict().default({ cpu: 1, memoryMiB: 512, pids: 1024 }),
}).strict().superRefine((r, ctx) => {
  if (!('debian' in r.from) && r.packages.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['packages'], message: 'packages can only be installed on a `from: {debian: …}` template' });
  }
});

export type TemplateRecipe = z.infer<typeof TemplateRecipeSchema>;

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
