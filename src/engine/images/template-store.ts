/**
 * Templates by name → built images. A built template records its recipe, the hash that names
 * the build, its layers (top first) and the image config the guest needs. Builds of the same
 * template share one promise; shipped recipes (templates/*.yaml: base, busybox, …) are built
 * on first use.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError, notFound } from '../../api/errors.ts';
import { writeFileAtomic } from '../fsutil.ts';
import { buildBusyboxLayer, buildDebianLayer, importOciLayer, LayerCache, type Progress } from './layers.ts';
import { hashOf, parseRecipeText, type TemplateRecipe } from './recipe.ts';

export interface ImageConfig {
  env: Record<string, string>;
  workdir: string;
  user: string;
  start?: TemplateRecipe['start'];
  ready?: TemplateRecipe['ready'];
}

export interface TemplateInfo {
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
}

export interface TemplateBuildEvent {
  template: string;
  phase: 'base' | 'steps' | 'done';
  message: string;
}

/** Runs `script` as root in a sandbox over `layers`, writing into `upper`; provided by the engine. */
export type StepRunner = (args: { layers: string[]; upper: string; files: TemplateRecipe['files']; script: string; progress: Progress }) => Promise<void>;

export const SHIPPED_TEMPLATES_DIR = new URL('../../../templates/', import.meta.url).pathname;

export class TemplateStore {
  private readonly layers: LayerCache;
  private readonly dir: string;
  private readonly building = new Map<string, Promise<TemplateInfo>>();
  private readonly shipped = new Map<string, TemplateRecipe>();
  private readonly runSteps: StepRunner;

  constructor(opts: { home: string; cacheDir: string; runSteps: StepRunner; shippedDir?: string }) {
    this.dir = join(opts.home, 'templates');
    this.layers = new LayerCache(join(opts.cacheDir, 'layers'));
    this.runSteps = opts.runSteps;
    const shippedDir = opts.shippedDir ?? SHIPPED_TEMPLATES_DIR;
    if (existsSync(shippedDir)) {
      for (const f of readdirSync(shippedDir).filter((f) => /\.ya?ml$/.test(f))) {
        const recipe = parseRecipeText(readFileSync(join(shippedDir, f), 'utf8'));
        this.shipped.set(recipe.name, recipe);
      }
    }
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** Built templates, by name. */
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
  find(name: string): TemplateInfo | undefined {
    const f = this.file(name);
    if (!existsSync(f)) return undefined;
    return JSON.parse(readFileSync(f, 'utf8')) as TemplateInfo;
  }

  get(name: string): TemplateInfo {
    const t = this.find(name);
    if (!t) throw notFound('template', name);
    return t;
  }

  /** A built template, building a shipped recipe of that name on first use. */
  async ensure(name: string, onEvent?: (e: TemplateBuildEvent) => void): Promise<TemplateInfo> {
    const t = this.find(name);
    if (t) return t;
    const recipe = this.shipped.get(name);
    if (!recipe) throw notFound('template', name);
    return this.build(recipe, onEvent);
  }

  async build(recipe: TemplateRecipe, onEvent?: (e: TemplateBuildEvent) => void): Promise<TemplateInfo> {
    const pending = this.building.get(recipe.name);
    if (pending) return pending;
    const job = this.doBuild(recipe, onEvent ?? (() => undefined)).finally(() => this.building.delete(recipe.name));
    this.building.set(recipe.name, job);
    return job;
  }

  private async doBuild(recipe: TemplateRecipe, onEvent: (e: TemplateBuildEvent) => void): Promise<TemplateInfo> {
    const emit = (phase: TemplateBuildEvent['phase']) => (message: string) => onEvent({ template: recipe.name, phase, message });
    let parent: TemplateInfo | undefined;
    if ('template' in recipe.from) {
      if (recipe.from.template === recipe.name) throw new AgentboxError('invalid_argument', `template ${recipe.name} cannot be built from itself`);
      parent = await this.ensure(recipe.from.template, onEvent);
    }
    const buildId = hashOf({ recipe, parent: parent?.buildId ?? null });
    const existing = this.find(recipe.name);
    if (existing?.buildId === buildId && existing.layers.every(existsSync)) {
      emit('done')(`template ${recipe.name} is up to date`);
      return existing;
    }
    const base = emit('base');
    let layers: string[];
    if ('debian' in recipe.from) layers = [await buildDebianLayer(this.layers, { ...recipe.from.debian, packages: recipe.packages }, base)];
    else if ('busybox' in recipe.from) layers = [await buildBusyboxLayer(this.layers, base)];
    else if ('oci' in recipe.from) layers = [await importOciLayer(this.layers, recipe.from.oci, base)];
    else layers = parent!.layers;

    if (recipe.files.length > 0 || recipe.run.length > 0) {
      const steps = emit('steps');
      const stepsKey = hashOf({ kind: 'steps', layers, files: recipe.files, run: recipe.run });
      if (this.layers.has(stepsKey)) steps(`reusing the cached result of ${recipe.run.length} step(s)`);
      const top = await this.layers.ensure(stepsKey, async (upper) => {
        steps(`running ${recipe.run.length} step(s) in a sandbox`);
        await this.runSteps({ layers, upper, files: recipe.files, script: ['set -e', ...recipe.run].join('\n'), progress: steps });
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
      name: recipe.name,
      description: recipe.description,
      buildId,
      layers,
      config,
      resources: recipe.resources,
      builtAt: new Date().toISOString(),
      recipe,
    };
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(recipe.name), JSON.stringify(info, null, 2));
    emit('done')(`template ${recipe.name} built (${layers.length} layer(s))`);
    return info;
  }

  async remove(name: string): Promise<void> {
    if (!this.find(name)) throw notFound('template', name);
    await rm(this.file(name), { force: true });
  }

  /** Reads a recipe file (YAML or JSON). */
  static async readRecipe(path: string): Promise<TemplateRecipe> {
    return parseRecipeText(await readFile(path, 'utf8'));
  }
}
