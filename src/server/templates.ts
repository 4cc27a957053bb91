/**
 * Which templates a tenant may use and write. The engine builds and stores images
 * (TemplateCatalog, a port so tests can pass their own) under a store key; this table says whose
 * each name is.
 *
 * Names are per owner. A public template (owner NULL: the built-ins, the shipped recipes, and
 * everything an admin builds) is usable by every tenant and written by admins only. A tenant's
 * own template is private to it and stored under `name@tenant` (templateKey), so two tenants'
 * `x` never share an image, a build, or an error message. A name resolves to the caller's own
 * template first, then to the public one: that rule applies everywhere a name is taken
 * (sandboxes, pools, `from: {template}`).
 */
import { AgentboxError, asAgentboxError, notFound } from '../api/errors.ts';
import type { RuntimeName, TemplateBody, TemplateView } from '../api/native.ts';
import { templateKey } from '../engine/images/template-store.ts';
import type { Principal } from './auth-store.ts';
import type { Db } from './db.ts';

export interface CatalogEntry {
  /** The store key: what the engine runs. */
  name: string;
  state: 'ready' | 'building' | 'missing' | 'failed';
  error?: string;
  /** Default resources of sandboxes made from it. */
  cpu: number;
  memoryMiB: number;
}

/** Where a build goes, as this module resolved it, and what it must pass there. */
export interface CatalogTarget {
  key: string;
  /** Store key of `from.template`. */
  parentKey?: string;
  /**
   * The runtime the builder's creates get. A build whose template lets its start command (or
   * its ready check alone) be snapshotted runs them once for it before it replaces the template,
   * as E2B ends a build: one that fails leaves the previous build serving.
   */
  runtime?: RuntimeName;
}

/** What the server needs of the engine's template store. Every name here is a store key. */
export interface TemplateCatalog {
  list(): CatalogEntry[];
  get(key: string): CatalogEntry | undefined;
  /** Builds a recipe; `onProgress` receives one human-readable line per step. */
  build(recipe: TemplateBody, onProgress: ((line: string) => void) | undefined, target: CatalogTarget): Promise<CatalogEntry>;
  /** Builds a recipe `from: {oci}` out of an uploaded archive (docker save). */
  buildFromUpload(recipe: TemplateBody, archive: AsyncIterable<Uint8Array>, onProgress: ((line: string) => void) | undefined, target: CatalogTarget): Promise<CatalogEntry>;
  /** Builds a built-in template (`base`, `busybox`) when it is not built yet. */
  ensureBuiltin(key: string, onProgress?: (line: string) => void): Promise<CatalogEntry>;
}

interface Row { name: string; owner_tenant: string | null; store_key: string }

export class TemplateAccess {
  /**
   * `beginBuild` counts a build against the caller's concurrentBuilds limit (429 when over) and
   * returns its release; the server passes Quota's.
   */
  constructor(private readonly db: Db, private readonly catalog: TemplateCatalog, private readonly now: () => number = Date.now,
    private readonly beginBuild: (p: Principal) => () => void = () => () => {}) {
    this.registerPublic();
  }

  /**
   * Built-ins and shipped recipes get their public row at start-up, so no tenant can ever claim
   * their names. A store key with `@` is a tenant's and never becomes public this way.
   */
  private registerPublic(): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO templates (name, owner_tenant, store_key, created_at) VALUES (?, NULL, ?, ?)');
    for (const e of this.catalog.list()) if (!e.name.includes('@')) insert.run(e.name, e.name, this.now());
  }

  /** The caller's own template of that name, else the public one. */
  private resolve(tenantId: string, name: string): Row | undefined {
    return this.db.prepare(`SELECT name, owner_tenant, store_key FROM templates WHERE name = ? AND (owner_tenant = ? OR owner_tenant IS NULL)
      ORDER BY owner_tenant IS NULL LIMIT 1`).get(name, tenantId) as Row | undefined;
  }

  /** The catalog entry `name` resolves to for a tenant (pool fills), or undefined. */
  entryFor(tenantId: string, name: string): CatalogEntry | undefined {
    const row = this.resolve(tenantId, name);
    return row && this.catalog.get(row.store_key);
  }

  list(p: Principal): TemplateView[] {
    const rows = this.db.prepare('SELECT name, owner_tenant, store_key FROM templates WHERE owner_tenant = ? OR owner_tenant IS NULL ORDER BY name, owner_tenant IS NULL')
      .all(p.tenantId) as Row[];
    const seen = new Set<string>();
    const out: TemplateView[] = [];
    for (const r of rows) {
      const entry = this.catalog.get(r.store_key);
      if (seen.has(r.name) || !entry) continue;
      seen.add(r.name);
      out.push(this.view(r, entry));
    }
    return out;
  }

  /**
   * The template `name` resolves to for the caller, built on first use when it is a built-in;
   * not_found otherwise (no leak of other tenants' names). Its `name` is the store key.
   */
  async usable(p: Principal, name: string): Promise<CatalogEntry> {
    const row = this.resolve(p.tenantId, name);
    let entry = row && this.catalog.get(row.store_key);
    if (!row || !entry) throw notFound('template', name);
    if (entry.state === 'missing') entry = await this.catalog.ensureBuiltin(row.store_key);
    if (entry.state !== 'ready') throw new AgentboxError('conflict', `template '${name}' is ${entry.state}${entry.error ? `: ${entry.error}` : ''}; build it first (agentbox template build)`, { details: { template: name } });
    return entry;
  }

  /**
   * Builds a recipe. Templates an admin builds are public; a tenant's own are private to it.
   * `runtime` is the one the caller's creates get (CatalogTarget).
   */
  build(p: Principal, recipe: TemplateBody, onProgress?: (line: string) => void, runtime?: RuntimeName): Promise<TemplateView> {
    return this.buildAs(p, recipe, (target) => this.catalog.build(recipe, onProgress, { ...target, ...(runtime ? { runtime } : {}) }));
  }

  /** Builds `name` from an uploaded docker-save archive (`ref` picks an image in it). */
  buildFromUpload(p: Principal, name: string, archive: AsyncIterable<Uint8Array>, opts: { ref?: string; description?: string } = {}): Promise<TemplateView> {
    const recipe: TemplateBody = { name, from: { oci: { path: '/upload', ...(opts.ref ? { ref: opts.ref } : {}) } }, ...(opts.description ? { description: opts.description } : {}) };
    return this.buildAs(p, recipe, (target) => this.catalog.buildFromUpload(recipe, archive, undefined, target));
  }

  /**
   * Runs a build within the caller's concurrentBuilds limit. The template stays recorded once
   * the engine has it (built, or failed with its error); a refused build leaves no row behind.
   */
  private async buildAs(p: Principal, recipe: TemplateBody, run: (target: CatalogTarget) => Promise<CatalogEntry>): Promise<TemplateView> {
    const release = this.beginBuild(p);
    try {
      const { row, target } = this.plan(p, recipe);
      // Recorded before the build, so it is listed as building while it runs.
      const inserted = this.db.prepare('INSERT OR IGNORE INTO templates (name, owner_tenant, store_key, created_at) VALUES (?, ?, ?, ?)')
        .run(row.name, row.owner_tenant, row.store_key, this.now()).changes === 1;
      const entry = await run(target).catch((err: unknown) => {
        // A build that ran and failed on its own stays listed with its error; one refused for
        // its input (a 4xx: bad archive, bad recipe) leaves nothing.
        const refused = asAgentboxError(err).httpStatus < 500 || !this.catalog.get(target.key);
        if (inserted && refused) this.db.prepare('DELETE FROM templates WHERE store_key = ?').run(row.store_key);
        throw err;
      });
      return this.view(row, entry);
    } finally {
      release();
    }
  }

  /**
   * Decides where a build goes, before anything is built. Public names are written by admins
   * only; a tenant writes its own namespace. `from: {template}` must resolve for the caller like
   * any other use of a name.
   */
  private plan(p: Principal, recipe: TemplateBody): { row: Row; target: CatalogTarget } {
    const owner = p.admin ? null : p.tenantId;
    if (owner !== null && this.resolve(owner, recipe.name)?.owner_tenant === null) {
      throw new AgentboxError('permission_denied', `'${recipe.name}' is a public template, which only an admin can build: choose another name for yours`, { details: { template: recipe.name } });
    }
    const target: CatalogTarget = { key: templateKey(recipe.name, owner) };
    const parentName = (recipe.from as { template?: unknown }).template;
    if (typeof parentName === 'string') {
      const parent = this.resolve(p.tenantId, parentName);
      if (!parent || !this.catalog.get(parent.store_key)) {
        throw new AgentboxError('not_found', `template '${parentName}' (from.template) does not exist: build it first or pick one from GET /v1/templates`, { details: { template: parentName } });
      }
      target.parentKey = parent.store_key;
    }
    const existing = this.db.prepare('SELECT name, owner_tenant, store_key FROM templates WHERE name = ? AND owner_tenant IS ?').get(recipe.name, owner) as Row | undefined;
    if (existing) return { row: existing, target: { ...target, key: existing.store_key } };
    const holder = this.db.prepare('SELECT name FROM templates WHERE store_key = ?').get(target.key);
    // Only an admin can meet this: a private template from before per-tenant names holds the key.
    if (holder) throw new AgentboxError('conflict', `the store name '${target.key}' is held by a private template made before names were per tenant; choose another name`);
    return { row: { name: recipe.name, owner_tenant: owner, store_key: target.key }, target };
  }

  private view(r: Row, t: CatalogEntry): TemplateView {
    const v: TemplateView = { name: r.name, visibility: r.owner_tenant ? 'private' : 'public', state: t.state };
    if (t.error) v.error = t.error;
    return v;
  }
}
