/**
 * The engine's TemplateStore as the server's TemplateCatalog, by store key: built templates are
 * `ready`, shipped recipes not built yet are `missing` (built on first use), builds in flight
 * `building`.
 */
import { AgentboxError, asAgentboxError } from '../api/errors.ts';
import type { RuntimeName, TemplateBody } from '../api/native.ts';
import { parseRecipe } from '../engine/images/recipe.ts';
import { startsInSnapshot, type BuildTarget, type TemplateInfo, type TemplateStore } from '../engine/images/template-store.ts';
import type { Engine } from '../engine/types.ts';
import type { CatalogEntry, CatalogTarget, TemplateCatalog } from './templates.ts';

const ready = (t: TemplateInfo): CatalogEntry => ({ name: t.name, state: 'ready', cpu: t.resources.cpu, memoryMiB: t.resources.memoryMiB });

export function engineCatalog(store: TemplateStore, engine: Pick<Engine, 'startOnce'>): TemplateCatalog {
  /**
   * E2B ends a build by running its start command until the ready command passes, and
   * snapshotting (https://e2b.dev/docs/template/start-ready-command). A template that lets its
   * start command (or ready check alone) be snapshotted does the same here, through the
   * engine's startOnce, before the build replaces the template: one that cannot get ready is
   * not kept, and its creates restore from the first on. Other start commands run per create,
   * with the create's env, which a check here could not give them.
   */
  const startOnce = (key: string, runtime: RuntimeName, onProgress?: (line: string) => void) => async (candidate: TemplateInfo) => {
    if (!startsInSnapshot(candidate.config)) return;
    const { start } = candidate.config;
    onProgress?.(start ? 'Running the start command until the ready command passes' : 'Running the ready command until it passes');
    try {
      // Not inside onProgress?.(…): with no listener its arguments are never evaluated.
      const snapshotted = await engine.startOnce(candidate, runtime);
      onProgress?.(snapshotted ? 'Ready; snapshot made: creates restore it' : 'Ready');
    } catch (err) {
      const kept = store.find(key) ? ' (the template keeps its previous build)' : '';
      throw new AgentboxError('invalid_argument', `this build was not kept${kept}: ${asAgentboxError(err).message}`, { details: { template: key } });
    }
  };
  const buildTarget = ({ key, parentKey, runtime }: CatalogTarget, onProgress?: (line: string) => void): BuildTarget => ({
    key, ...(parentKey ? { parentKey } : {}), ...(runtime ? { check: startOnce(key, runtime, onProgress) } : {}),
  });
  const building = new Set<string>();
  const failed = new Map<string, string>();
  const track = async (key: string, job: () => Promise<TemplateInfo>): Promise<CatalogEntry> => {
    building.add(key);
    failed.delete(key);
    try {
      return ready(await job());
    } catch (err) {
      failed.set(key, (err as Error).message);
      throw err;
    } finally {
      building.delete(key);
    }
  };
  const entry = (key: string): CatalogEntry | undefined => {
    const built = store.find(key);
    if (built) return ready(built);
    const known = building.has(key) || failed.has(key) || store.shippedNames().includes(key);
    if (!known) return undefined;
    const e: CatalogEntry = { name: key, state: building.has(key) ? 'building' : failed.has(key) ? 'failed' : 'missing', cpu: 1, memoryMiB: 512 };
    const error = failed.get(key);
    if (error) e.error = error;
    return e;
  };
  return {
    list() {
      const keys = new Set([...store.list().map((t) => t.name), ...store.shippedNames(), ...building, ...failed.keys()]);
      return [...keys].sort().map((k) => entry(k)!);
    },
    get: entry,
    build(recipe: TemplateBody, onProgress, target) {
      const parsed = parseRecipe(recipe);
      return track(target.key, () => store.build(parsed, (e) => onProgress?.(e.message), buildTarget(target, onProgress)));
    },
    buildFromUpload(recipe: TemplateBody, archive, onProgress, target) {
      const parsed = parseRecipe(recipe);
      return track(target.key, () => store.buildFromUpload(parsed, archive, (e) => onProgress?.(e.message), buildTarget(target, onProgress)));
    },
    ensureBuiltin(key, onProgress) {
      return track(key, () => store.ensure(key, (e) => onProgress?.(e.message)));
    },
  };
}
