/**
 * The engine's TemplateStore as the server's TemplateCatalog: built templates are `ready`,
 * shipped recipes not built yet are `missing` (built on first use), builds in flight `building`.
 */
import type { TemplateBody } from '../api/native.ts';
import { parseRecipe } from '../engine/images/recipe.ts';
import type { TemplateInfo, TemplateStore } from '../engine/images/template-store.ts';
import type { CatalogEntry, TemplateCatalog } from './templates.ts';

const ready = (t: TemplateInfo): CatalogEntry => ({ name: t.name, state: 'ready', cpu: t.resources.cpu, memoryMiB: t.resources.memoryMiB });

export function engineCatalog(store: TemplateStore): TemplateCatalog {
  const building = new Set<string>();
  const failed = new Map<string, string>();
  const track = async (name: string, job: () => Promise<TemplateInfo>): Promise<CatalogEntry> => {
    building.add(name);
    failed.delete(name);
    try {
      return ready(await job());
    } catch (err) {
      failed.set(name, (err as Error).message);
      throw err;
    } finally {
      building.delete(name);
    }
  };
  const entry = (name: string): CatalogEntry | undefined => {
    const built = store.find(name);
    if (built) return ready(built);
    const known = building.has(name) || failed.has(name) || store.shippedNames().includes(name);
    if (!known) return undefined;
    const e: CatalogEntry = { name, state: building.has(name) ? 'building' : failed.has(name) ? 'failed' : 'missing', cpu: 1, memoryMiB: 512 };
    const error = failed.get(name);
    if (error) e.error = error;
    return e;
  };
  return {
    list() {
      const names = new Set([...store.list().map((t) => t.name), ...store.shippedNames(), ...building, ...failed.keys()]);
      return [...names].sort().map((n) => entry(n)!);
    },
    get: entry,
    build(recipe: TemplateBody, onProgress) {
      const parsed = parseRecipe(recipe);
      return track(parsed.name, () => store.build(parsed, (e) => onProgress?.(e.message)));
    },
    ensureBuiltin(name, onProgress) {
      return track(name, () => store.ensure(name, (e) => onProgress?.(e.message)));
    },
  };
}
