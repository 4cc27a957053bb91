/**
 * Templates by store key → built images. A key is a template's name for public templates, and
 * `name@owner` for a tenant's private one (templateKey), so two tenants' `x` never share a file,
 * a build or an in-flight promise. A built template records its recipe, the hash that names
 * the build, its layers (top first) and the image config the guest needs. Identical builds of
 * one key share a promise; a different recipe for the key waits for the one in flight. Shipped
 * recipes (templates/*.yaml: base, busybox, …) are built on first use.
 */
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AgentboxError, notFound } from '../../api/errors.ts';
import { ensurePrivateDir, writeFileAtomic } from '../fsutil.ts';
import { buildPolicyFromEnv, checkMirror, resolveImportPath, TIMEOUT_HINT, type BuildPolicy } from './build-policy.ts';
import { buildBusyboxLayer, buildDebianLayer, importOciLayer, LayerCache, type Deadline, type Progress } from './layers.ts';
import { hashOf, parseRecipeText, type TemplateRecipe } from './recipe.ts';

export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user: string;
  start?: TemplateRecipe['start'];
  ready?: TemplateRecipe['ready'];
}

/**
 * Whether a template lets its start command (or, without one, its ready check) run once into its
 * golden snapshot, so copies restore it instead of running it (recipe.ts `goldenSnapshot`).
 */
export function startsInSnapshot({ start, ready }: Pick<ImageConfig, 'start' | 'ready'>): boolean {
  return start ? start.goldenSnapshot === true : ready?.goldenSnapshot === true;
}

export interface TemplateInfo {
  /** The store key (see templateKey); what sandboxes record as their template. */
  name: string;
  description?: string;
  /** Hash of the recipe and its parent's build: the build's identity. */
  buildId: string;
  /** Read-only layers, top-most first (overlayfs lowerdir order). */
  layers: string[];
  config: ImageConfig;
  resources: TemplateRecipe['resources'];
  builtAt: string;
  recipe: TemplateRecipe;
  /**
   * Whether the recipe was the one agentbox shipped under this name when it was built. After an
   * upgrade ships a new recipe, such a build is outdated (outdatedShipped); a build of an admin's
   * own recipe under a shipped name is not. Absent on records written before agentbox kept it.
   */
  shipped?: boolean;
}

export interface TemplateBuildEvent {
  template: string;
  phase: 'base' | 'steps' | 'done';
  message: string;
}

/** Runs the recipe's files and run steps as root in a sandbox over `layers`, writing into `upper`; provided by the engine. */
export type StepRunner = (args: {
  template: string;
  layers: string[];
  upper: string;
  files: TemplateRecipe['files'];
  run: string[];
  progress: Progress;
  timeouts: { stepMs: number; buildMs: number; deadline: number; hint: string };
}) => Promise<void>;

export const SHIPPED_TEMPLATES_DIR = new URL('../../../templates/', import.meta.url).pathname;

const KEY = /^[a-z0-9][a-z0-9._-]{0,62}(@[A-Za-z0-9_-]{1,64})?$/;

/** The store key of template `name`: public (owner null) → `name`; a tenant's own → `name@owner`. */
export function templateKey(name: string, owner: string | null): string {
  return owner === null ? name : `${name}@${owner}`;
}

/** Where a build's result goes and what it builds on, as the caller (the server) resolved them. */
export interface BuildTarget {
  /** Store key of the result; default the recipe's name (public). */
  key?: string;
  /** Store key of `from.template`; default its name (public). */
  parentKey?: string;
  /** A file the engine received (an upload) to import instead of `from.oci.path`. */
  archive?: string;
  /**
   * Must pass before the build replaces what `key` holds (an E2B build runs its start command
   * there). When it throws, the build fails with its error and the previous build, if any,
   * keeps serving. An up-to-date build is checked too.
   */
  check?: (candidate: TemplateInfo) => Promise<void>;
}

export class TemplateStore {
  private readonly layers: LayerCache;
  private readonly dir: string;
  private readonly building = new Map<string, { id: string; job: Promise<TemplateInfo> }>();
  private readonly shipped = new Map<string, TemplateRecipe>();
  private readonly runSteps: StepRunner;
  readonly policy: BuildPolicy;

  constructor(opts: { home: string; cacheDir: string; runSteps: StepRunner; shippedDir?: string; policy?: Partial<BuildPolicy> }) {
    this.dir = join(opts.home, 'templates');
    this.layers = new LayerCache(join(opts.cacheDir, 'layers'));
    this.runSteps = opts.runSteps;
    this.policy = { ...buildPolicyFromEnv(opts.home), ...opts.policy };
    const shippedDir = opts.shippedDir ?? SHIPPED_TEMPLATES_DIR;
    if (existsSync(shippedDir)) {
      for (const f of readdirSync(shippedDir).filter((f) => /\.ya?ml$/.test(f))) {
        const recipe = parseRecipeText(readFileSync(join(shippedDir, f), 'utf8'));
        this.shipped.set(recipe.name, recipe);
      }
    }
  }

  private file(key: string): string {
    if (!KEY.test(key)) throw new AgentboxError('invalid_argument', `'${key}' is not a template name`);
    return join(this.dir, `${key}.json`);
  }

  /** Built templates, by key. */
  list(): TemplateInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as TemplateInfo)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Names of recipes shipped with agentbox (built on first use). */
  shippedNames(): string[] {
    return [...this.shipped.keys()].sort();
  }

  /** The built template, or undefined. */
  find(key: string): TemplateInfo | undefined {
    const f = this.file(key);
    if (!existsSync(f)) return undefined;
    return JSON.parse(readFileSync(f, 'utf8')) as TemplateInfo;
  }

  get(key: string): TemplateInfo {
    const t = this.find(key);
    if (!t) throw notFound('template', key);
    return t;
  }

  /**
   * Shipped templates built from an older shipped recipe (agentbox was upgraded since), by key.
   * They keep serving until refreshShipped rebuilds them. A record from before agentbox noted
   * `shipped` counts as shipped: nothing told a shipped build from an admin's then, and the
   * admin's own recipe can be built again where the shipped one could not be left stale.
   */
  outdatedShipped(): string[] {
    return [...this.shipped].filter(([key, recipe]) => {
      const built = this.find(key);
      return built !== undefined && built.shipped !== false && hashOf(built.recipe) !== hashOf(recipe);
    }).map(([key]) => key);
  }

  /** Builds the current shipped recipe of `key` (see outdatedShipped); the old build serves until it is done. */
  refreshShipped(key: string, onEvent?: (e: TemplateBuildEvent) => void): Promise<TemplateInfo> {
    const recipe = this.shipped.get(key);
    if (!recipe) throw notFound('template', key);
    return this.build(recipe, onEvent);
  }

  /** A built template, building a shipped recipe of that name on first use. */
  async ensure(key: string, onEvent?: (e: TemplateBuildEvent) => void): Promise<TemplateInfo> {
    const t = this.find(key);
    if (t) return t;
    const recipe = this.shipped.get(key);
    if (!recipe) throw notFound('template', key);
    return this.build(recipe, onEvent);
  }

  async build(recipe: TemplateRecipe, onEvent?: (e: TemplateBuildEvent) => void, target: BuildTarget = {}): Promise<TemplateInfo> {
    const key = target.key ?? recipe.name;
    this.file(key);
    const { check, ...where } = target;
    const id = hashOf({ recipe, target: where });
    const pending = this.building.get(key);
    // A checked build does not join one in flight, which may not be checked.
    if (pending?.id === id && !check) return pending.job;
    // Another recipe for the same key is building: this one runs after it, never shares its result.
    const job = (pending?.job ?? Promise.resolve()).catch(() => undefined)
      .then(() => this.doBuild(recipe, key, target, onEvent ?? (() => undefined)))
      .finally(() => { if (this.building.get(key)?.job === job) this.building.delete(key); });
    this.building.set(key, { id, job });
    return job;
  }

  /**
   * Receives an OCI archive (`docker save` or `oci-archive`) into a private file, at most
   * `policy.maxImportBytes`, and builds `recipe` (whose `from` is `{oci: …}`) from it.
   */
  async buildFromUpload(recipe: TemplateRecipe, body: AsyncIterable<Uint8Array>, onEvent?: (e: TemplateBuildEvent) => void, target: BuildTarget = {}): Promise<TemplateInfo> {
    await ensurePrivateDir(this.layers.root);
    const dir = await mkdtemp(join(this.layers.root, '.upload-'));
    const archive = join(dir, 'archive');
    try {
      const max = this.policy.maxImportBytes;
      let size = 0;
      await pipeline(async function* () {
        for await (const chunk of body) {
          size += chunk.length;
          if (size > max) throw new AgentboxError('invalid_argument', `the uploaded image is larger than ${max} bytes (AGENTBOX_MAX_IMPORT_MB): send a smaller image`, { details: { maxBytes: max } });
          yield chunk;
        }
      }, createWriteStream(archive, { mode: 0o600 }));
      if (size === 0) throw new AgentboxError('invalid_argument', 'the upload is empty: send a docker-save or OCI archive as the request body');
      return await this.build(recipe, onEvent, { ...target, archive });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async doBuild(recipe: TemplateRecipe, key: string, target: BuildTarget, onEvent: (e: TemplateBuildEvent) => void): Promise<TemplateInfo> {
    const emit = (phase: TemplateBuildEvent['phase']) => (message: string) => onEvent({ template: recipe.name, phase, message });
    const { stepTimeoutMs, buildTimeoutMs } = this.policy;
    const deadlineAt = Date.now() + buildTimeoutMs;
    const deadline: Deadline = {
      remaining: (what) => {
        const left = deadlineAt - Date.now();
        if (left <= 0) {
          throw new AgentboxError('deadline_exceeded', `template '${recipe.name}' did not finish building within ${Math.round(buildTimeoutMs / 1000)} s (it was at ${what}); ${TIMEOUT_HINT}`,
            { details: { template: recipe.name, buildTimeoutMs } });
        }
        return left;
      },
    };
    let parent: TemplateInfo | undefined;
    if ('template' in recipe.from) {
      const parentKey = target.parentKey ?? recipe.from.template;
      if (parentKey === key) throw new AgentboxError('invalid_argument', `template ${recipe.name} cannot be built from itself`);
      parent = await this.ensure(parentKey, onEvent);
    }
    const base = emit('base');
    let layers: string[];
    if ('debian' in recipe.from) {
      if (recipe.from.debian.mirror) await checkMirror(recipe.from.debian.mirror, this.policy);
      layers = [await buildDebianLayer(this.layers, { ...recipe.from.debian, packages: recipe.packages }, base, deadline)];
    } else if ('busybox' in recipe.from) layers = [await buildBusyboxLayer(this.layers, base)];
    else if ('oci' in recipe.from) {
      const path = target.archive ?? await resolveImportPath(recipe.from.oci.path, this.policy);
      layers = [await importOciLayer(this.layers, { path, ref: recipe.from.oci.ref }, base, deadline)];
    } else layers = parent!.layers;

    const buildId = hashOf({ recipe, parent: parent?.buildId ?? null, base: layers });
    const existing = this.find(key);
    if (existing?.buildId === buildId && existing.layers.every(existsSync)) {
      await target.check?.(existing);
      emit('done')(`template ${recipe.name} is up to date`);
      return existing;
    }
    if (recipe.files.length > 0 || recipe.run.length > 0) {
      const steps = emit('steps');
      const stepsKey = hashOf({ kind: 'steps', layers, files: recipe.files, run: recipe.run });
      if (this.layers.has(stepsKey)) steps(`reusing the cached result of ${recipe.run.length} step(s)`);
      const top = await this.layers.ensure(stepsKey, async (upper) => {
        steps(`running ${recipe.run.length} step(s) in a sandbox`);
        await this.runSteps({
          template: recipe.name, layers, upper, files: recipe.files, run: recipe.run, progress: steps,
          timeouts: { stepMs: stepTimeoutMs, buildMs: buildTimeoutMs, deadline: deadlineAt, hint: TIMEOUT_HINT },
        });
      });
      layers = [top, ...layers];
    }
    const config: ImageConfig = {
      env: { ...(parent?.config.env ?? {}), ...recipe.env },
      workdir: recipe.workdir !== '/' ? recipe.workdir : parent?.config.workdir ?? '/',
      user: recipe.user !== 'root' ? recipe.user : parent?.config.user ?? 'root',
      start: recipe.start ?? parent?.config.start,
      ready: recipe.ready ?? parent?.config.ready,
    };
    const info: TemplateInfo = {
      name: key,
      description: recipe.description,
      buildId,
      layers,
      config,
      resources: recipe.resources,
      builtAt: new Date().toISOString(),
      recipe,
      shipped: this.shipped.has(key) && hashOf(this.shipped.get(key)) === hashOf(recipe),
    };
    await target.check?.(info);
    await ensurePrivateDir(this.dir);
    await writeFileAtomic(this.file(key), JSON.stringify(info, null, 2));
    emit('done')(`template ${recipe.name} built (${layers.length} layer(s))`);
    return info;
  }

  async remove(key: string): Promise<void> {
    if (!this.find(key)) throw notFound('template', key);
    await rm(this.file(key), { force: true });
  }

  /** Reads a recipe file (YAML or JSON). */
  static async readRecipe(path: string): Promise<TemplateRecipe> {
    return parseRecipeText(await readFile(path, 'utf8'));
  }
}
