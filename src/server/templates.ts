/**
 * Which templates a tenant may use. The engine builds and stores images (TemplateCatalog, a port
 * so tests can pass their own); the server only records who owns a template it built. A
 * template the server has no record of (a built-in such as `base`) is public.
 */
import { AgentboxError, notFound } from '../api/errors.ts';
import type { TemplateBody, TemplateView } from '../api/native.ts';
import type { Principal } from './auth-store.ts';
import type { Db } from './db.ts';

export interface CatalogEntry {
  name: string;
  state: 'ready' | 'building' | 'missing' | 'failed';
  error?: string;
  /** Default resources of sandboxes made from it. */
  cpu: number;
  memoryMiB: number;
}

/** What the server needs of the engine's template store. */
export interface TemplateCatalog {
  list(): CatalogEntry[];
  get(name: string): CatalogEntry | undefined;
  /** Builds a recipe; `onProgress` receives one human-readable line per step. */
  build(recipe: TemplateBody, onProgress?: (line: string) => void): Promise<CatalogEntry>;
  /** Builds a built-in template (`base`, `busybox`) when it is not built yet. */
  ensureBuiltin(name: string, onProgress?: (line: string) => void): Promise<CatalogEntry>;
}

export class TemplateAccess {
  /**
   * `beginBuild` counts a build against the caller's concurrentBuilds limit (429 when over) and
   * returns its release; the server passes Quota's.
   */
  constructor(private readonly db: Db, private readonly catalog: TemplateCatalog, private readonly now: () => number = Date.now,
    private readonly beginBuild: (p: Principal) => () => void = () => () => {}) {}

  private owner(name: string): string | null | undefined {
    const row = this.db.prepare('SELECT owner_tenant FROM templates WHERE name = ?').get(name) as { owner_tenant: string | null } | undefined;
    return row === undefined ? undefined : row.owner_tenant;
  }

  private visible(p: Principal, name: string): boolean {
    const owner = this.owner(name);
    return owner === undefined || owner === null || owner === p.tenantId;
  }

  list(p: Principal): TemplateView[] {
    return this.catalog.list().filter((t) => this.visible(p, t.name)).map((t) => this.view(t));
  }

  /**
   * The template, if the caller may use it, built on first use when it is a built-in;
   * not_found otherwise (no leak of other tenants' names).
   */
  async usable(p: Principal, name: string): Promise<CatalogEntry> {
    let entry = this.catalog.get(name);
    if (!entry || !this.visible(p, name)) throw notFound('template', name);
    if (entry.state === 'missing') entry = await this.catalog.ensureBuiltin(name);
    if (entry.state !== 'ready') throw new AgentboxError('conflict', `template '${name}' is ${entry.state}${entry.error ? `: ${entry.error}` : ''}; build it first (agentbox template build)`, { details: { template: name } });
    return entry;
  }

  /** Builds a recipe, within the caller's concurrentBuilds limit. */
  build(p: Principal, recipe: TemplateBody, onProgress?: (line: string) => void): Promise<TemplateView> {
    const release = this.beginBuild(p);
    return this.buildNow(p, recipe, onProgress).finally(release);
  }

  /** Templates an admin builds are public; a tenant's own are private to it. */
  private async buildNow(p: Principal, recipe: TemplateBody, onProgress?: (line: string) => void): Promise<TemplateView> {
    const owner = this.owner(recipe.name);
    if (owner !== undefined && owner !== null && owner !== p.tenantId) throw new AgentboxError('already_exists', `template name '${recipe.name}' is taken: choose another name`);
    if (owner === undefined) {
      this.db.prepare('INSERT INTO templates (name, owner_tenant, created_at) VALUES (?, ?, ?)').run(recipe.name, p.admin ? null : p.tenantId, this.now());
    }
    return this.view(await this.catalog.build(recipe, onProgress));
  }

  private view(t: CatalogEntry): TemplateView {
    const v: TemplateView = { name: t.name, visibility: this.owner(t.name) ? 'private' : 'public', state: t.state };
    if (t.error) v.error = t.error;
    return v;
  }
}
