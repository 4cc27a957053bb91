/**
 * What one real server and its engine leave on the host and in their database, as one
 * comparable value: the invariant of the adversarial suites ("a refused request changes
 * nothing", "a crash leaks nothing").
 *
 * Other test files run beside these on the same host, so host objects are scoped to this
 * engine: veth links by its interface prefix, mounts by its home, nftables by its table,
 * network namespaces and cgroups by the sandbox ids its home and database know.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCommand } from '../../src/engine/command.ts';
import { untilNoGoldenBuild } from '../support/golden.ts';

export interface Scope {
  /** The server's AGENTBOX_HOME (state.db). */
  serverHome: string;
  /** The engine's home (sandboxes/, mounts). */
  engineHome: string;
  network: { ifacePrefix: string; table: string };
}

export interface HostState {
  db: Record<string, unknown[]>;
  sandboxDirs: string[];
  links: string[];
  mounts: string[];
  netns: string[];
  cgroups: string[];
  nft: string;
}

const CGROUP_CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'];

/** Every row of every table, ordered, so two dumps compare with deepEqual. */
export function dumpDb(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    const out: Record<string, unknown[]> = {};
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all();
      out[name] = rows.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path).sort() : [];
}

/** The nftables table without counters (traffic moves them; rules and set elements must not). */
async function nftTable(table: string): Promise<string> {
  const r = await runCommand('nft', ['list', 'table', 'inet', table]).catch(() => undefined);
  // Empty chains hold no rule; the engine may leave one between a sandbox's removal and the
  // next reuse of its slot.
  return (r?.stdout ?? '').replace(/counter packets \d+ bytes \d+/g, 'counter').replace(/expires \S+/g, '')
    .replace(/\n\tchain \w+ \{\n\t\}\n/g, '\n');
}

export async function hostState(s: Scope): Promise<HostState> {
  await untilNoGoldenBuild(s.engineHome);
  const db = dumpDb(join(s.serverHome, 'state.db'));
  const sandboxDirs = listDir(join(s.engineHome, 'sandboxes'));
  const known = new Set<string>(sandboxDirs);
  for (const row of (db.sandboxes ?? []) as string[]) known.add((JSON.parse(row) as { id: string }).id);
  const links = (await runCommand('ip', ['-o', 'link', 'show'])).stdout.split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(s.network.ifacePrefix)).sort();
  // The prepared disks wait mounted (src/engine/images/prepared-disks.ts); a create that takes
  // one has another made, so which of them wait says nothing about what a request left behind.
  const preparedDisks = join(s.engineHome, 'prepared-disks') + '/';
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(s.engineHome) && !m.startsWith(preparedDisks)).sort();
  const netns = listDir('/run/netns').filter((n) => n.startsWith('agentbox-') && known.has(n.slice('agentbox-'.length)));
  const cgroups = CGROUP_CONTROLLERS.flatMap((c) => listDir(join('/sys/fs/cgroup', c, 'agentbox'))
    .filter((id) => known.has(id)).map((id) => `${c}/${id}`)).sort();
  return { db, sandboxDirs, links, mounts, netns, cgroups, nft: await nftTable(s.network.table) };
}
