/**
 * The server's state database (better-sqlite3). WAL journal: readers never block the writer and
 * a commit is one append. `synchronous=NORMAL` in WAL mode loses nothing when the *process* dies
 * (SIGKILL), which is the failure issue 3 asks us to survive; only an OS crash could drop the
 * last commits, and `durable: true` (synchronous=FULL) closes that too.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/** Append-only: a published migration is never edited; add a new one. */
const MIGRATIONS: string[] = [
  `CREATE TABLE tenants (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL REFERENCES tenants(id),
     hash TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     name TEXT NOT NULL,
     admin INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE TABLE sandboxes (
     id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL REFERENCES tenants(id),
     template TEXT NOT NULL,
     runtime TEXT NOT NULL,
     state TEXT NOT NULL,
     -- 1 while the sandbox waits, unclaimed, in its tenant's warm pool for 'template'.
     pooled INTEGER NOT NULL DEFAULT 0,
     from_pool INTEGER NOT NULL DEFAULT 0,
     metadata TEXT NOT NULL DEFAULT '{}',
     -- Env applied at claim time, merged into every exec (the warm sandbox started without it).
     claim_env TEXT NOT NULL DEFAULT '{}',
     timeout_s INTEGER NOT NULL,
     on_timeout TEXT NOT NULL,
     auto_resume INTEGER NOT NULL DEFAULT 0,
     -- Unix ms; NULL while paused (the timer stops) or while creating.
     expires_at INTEGER,
     cpu REAL NOT NULL,
     memory_mib INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     error TEXT
   );
   CREATE INDEX sandboxes_tenant ON sandboxes(tenant_id, pooled, created_at);
   CREATE INDEX sandboxes_expiry ON sandboxes(expires_at) WHERE expires_at IS NOT NULL;
   CREATE INDEX sandboxes_pool ON sandboxes(tenant_id, template, pooled, state);
   CREATE TABLE pools (
     tenant_id TEXT NOT NULL REFERENCES tenants(id),
     template TEXT NOT NULL,
     size INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, template)
   );
   CREATE TABLE templates (
     name TEXT PRIMARY KEY,
     -- NULL = public (usable by every tenant).
     owner_tenant TEXT REFERENCES tenants(id),
     created_at INTEGER NOT NULL
   );`,
  // Snapshots a tenant took of its sandboxes (E2B `createSnapshot`, issue 4). The engine holds
  // the checkpoint; this row says whose it is, and what to start it with.
  `CREATE TABLE snapshots (
     id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL REFERENCES tenants(id),
     -- Optional, unique per tenant: a snapshot can be created from by name.
     name TEXT,
     sandbox_id TEXT NOT NULL,
     template TEXT NOT NULL,
     runtime TEXT NOT NULL,
     cpu REAL NOT NULL,
     memory_mib INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX snapshots_name ON snapshots(tenant_id, name) WHERE name IS NOT NULL;
   CREATE INDEX snapshots_tenant ON snapshots(tenant_id, created_at);`,
  // The server policy (docs/security.md, "Policy and quotas"): each sandbox records the disk size
  // its tenant's policy gave it at creation (the per-sandbox disk quota enforces it), and each
  // pool the runtime class of its warm sandboxes (NULL: the server's default, as before).
  `ALTER TABLE sandboxes ADD COLUMN disk_mib INTEGER;
   ALTER TABLE pools ADD COLUMN runtime TEXT;`,
  // Template names per owner (server/templates.ts): a tenant's `x` and the public `x` are two
  // rows, and the engine stores each under its own key. Rows from before keep their name as
  // key, so their built images stay where they are.
  `CREATE TABLE templates_v2 (
     name TEXT NOT NULL,
     -- NULL = public (built-ins, shipped recipes, admin builds): usable by all, written by admins.
     owner_tenant TEXT REFERENCES tenants(id),
     -- The engine's template store key: name (public) or name@tenant (private).
     store_key TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL
   );
   INSERT INTO templates_v2 (name, owner_tenant, store_key, created_at) SELECT name, owner_tenant, name, created_at FROM templates;
   DROP TABLE templates;
   ALTER TABLE templates_v2 RENAME TO templates;
   CREATE UNIQUE INDEX templates_owner_name ON templates(ifnull(owner_tenant, ''), name);`,
  // OpenSandbox's pool capacity (issue 12, api/pool-capacity.ts): NULL for pools sized by
  // `size` alone; then `size` is the most the pool keeps idle.
  `ALTER TABLE pools ADD COLUMN buffer_min INTEGER;
   ALTER TABLE pools ADD COLUMN buffer_max INTEGER;
   ALTER TABLE pools ADD COLUMN pool_min INTEGER;
   ALTER TABLE pools ADD COLUMN pool_max INTEGER;`,
  // Sandboxes that ended (server/ended-store.ts, issue 16): a call on one says it expired or was
  // killed, and when, instead of "does not exist". Bounded: the oldest rows go first (by seq).
  `CREATE TABLE ended_sandboxes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     tenant_id TEXT NOT NULL,
     -- 'expired' (its timeout ran out) or 'killed' (a kill call).
     reason TEXT NOT NULL,
     ended_at INTEGER NOT NULL
   );`,
  // Lifecycle events and webhooks (server/events/, issue 15). `seq` orders events and is the
  // SSE id; events older than the retention (7 days, as E2B keeps them) are pruned. A delivery
  // row is written in the same transaction as its event (a transactional outbox), so an event
  // that happened is delivered even if the server dies before the POST; delivered or abandoned
  // rows are deleted.
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     tenant_id TEXT NOT NULL,
     sandbox_id TEXT NOT NULL,
     type TEXT NOT NULL,
     template TEXT NOT NULL,
     metadata TEXT NOT NULL,
     data TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX events_tenant ON events(tenant_id, seq);
   CREATE INDEX events_sandbox ON events(sandbox_id, seq);
   CREATE INDEX events_at ON events(at);
   CREATE TABLE webhooks (
     id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL REFERENCES tenants(id),
     name TEXT NOT NULL,
     url TEXT NOT NULL,
     -- JSON array of event types.
     events TEXT NOT NULL,
     -- Kept as given: every delivery is signed with it.
     secret TEXT NOT NULL,
     enabled INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX webhooks_tenant ON webhooks(tenant_id, created_at);
   CREATE TABLE webhook_deliveries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
     event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     last_error TEXT
   );
   CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at);`,
  // Volumes (server/volumes/, issue 15): a tenant's named, persistent directories that its
  // sandboxes mount. The engine holds the files (a disk image per volume); the row says whose it
  // is and holds the bearer token of its content API (E2B hands the same token out on every get).
  `CREATE TABLE volumes (
     id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL REFERENCES tenants(id),
     name TEXT NOT NULL,
     token TEXT NOT NULL UNIQUE,
     size_mib INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX volumes_name ON volumes(tenant_id, name);`,
];

export function openDb(path: string, opts: { durable?: boolean } = {}): Db {
  if (path !== ':memory:') privateFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.durable ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * The database holds key hashes and the env tenants pass at claim: its directory is 0700 and the
 * file 0600 before SQLite opens it. SQLite creates `-wal` and `-shm` with the database's mode;
 * existing ones (from older versions) are narrowed here too.
 */
function privateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  chmodSync(dirname(path), 0o700);
  closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}
