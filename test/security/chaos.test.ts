// test-file-timeout: 45 min
// Crash chaos on the REAL engine under gVisor: a mixed workload (create, exec, pause, resume,
// fork, kill) runs against a server process that is killed with SIGKILL at a random moment,
// CHAOS_ROUNDS times. After every restart an invariant checker holds the server to "nothing
// acknowledged is lost, nothing leaks":
// - every sandbox whose create or fork was acknowledged, and whose kill was not, exists, in a
//   settled state (running or paused), and answers a command once running;
// - every acknowledged kill stays killed; recovery reports nothing lost;
// - the engine's sandbox directories, the database's rows, the veth links, the network
//   namespaces and the mounts under the engine's home describe the same set of sandboxes.
// The random choices come from a seeded generator, printed on failure, so a failing run repeats.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { createEngine } from '../../src/engine/index.ts';
import { exited } from '../support/child-process.ts';
import { fetchAny } from '../support/fake-server.ts';
import { bootServerProcess, type ServerProcess } from '../support/server-process.ts';
import { networkIndex, testNetwork } from '../support/test-network.ts';
import { waitFor } from '../support/wait.ts';
import { hostState } from './host-state.ts';

const ROUNDS = Number(process.env.AGENTBOX_CHAOS_ROUNDS ?? 50);
/** Live sandboxes the workload keeps at most (a 2-core host runs every round's gVisor boots). */
const MAX_LIVE = 4;
const NET = networkIndex('sec-chaos');
const net = testNetwork(NET);
const boot = (home: string) => bootServerProcess(home, NET, 'gvisor');

/** mulberry32: small, seedable, good enough to pick operations and delays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the clients were told: the only facts the server owes them after a crash. */
class Ledger {
  readonly acked = new Map<string, 'running' | 'paused'>();
  readonly killed = new Set<string>();
  /**
   * Kills in flight per sandbox (two workers may kill the same one); those not answered when the
   * server died leave the sandbox gone or not.
   */
  readonly killing = new Map<string, number>();
  /** What happened to each sandbox, for the message when an invariant breaks. */
  readonly history = new Map<string, string[]>();
  note(id: string, what: string) { this.history.set(id, [...(this.history.get(id) ?? []), what]); }
  created(id: string) { this.acked.set(id, 'running'); }
  /** A pause or resume answered after a concurrent kill of the same sandbox was answered does not bring it back. */
  settled(id: string, state: 'running' | 'paused') { if (this.acked.has(id)) this.acked.set(id, state); }
  gone(id: string) { this.acked.delete(id); this.killed.add(id); }
  killSent(id: string) { this.killing.set(id, (this.killing.get(id) ?? 0) + 1); }
  killAnswered(id: string) { const n = (this.killing.get(id) ?? 1) - 1; if (n > 0) this.killing.set(id, n); else this.killing.delete(id); }
  ids(state?: 'running' | 'paused'): string[] { return [...this.acked].filter(([, s]) => !state || s === state).map(([id]) => id); }
}

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: () => Promise<any> }>;
const apiOf = (s: ServerProcess): Api => (method, path, body) => fetchAny(`${s.url}${path}`, {
  method, headers: { Authorization: `Bearer ${s.key}`, 'Content-Type': 'application/json' },
  ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
}) as never;

/** One operation on a random sandbox; a fetch error (the server died) ends the worker. */
async function step(api: Api, ledger: Ledger, pick: () => number): Promise<void> {
  const choose = (ids: string[]) => ids[Math.floor(pick() * ids.length)];
  const live = ledger.ids().length;
  const ops = ['exec', 'exec', 'pause', 'resume', 'kill', ...(live < MAX_LIVE ? ['create', 'create', 'fork'] : [])];
  const op = ops[Math.floor(pick() * ops.length)]!;
  if (op === 'create') {
    const r = await api('POST', '/v1/sandboxes', { template: 'busybox', timeoutSeconds: 3600 });
    if (r.status === 201) { const id = (await r.json()).id; ledger.created(id); ledger.note(id, 'created'); }
    return;
  }
  const running = ledger.ids('running');
  const id = op === 'resume' ? choose(ledger.ids('paused')) : op === 'kill' ? choose(ledger.ids()) : choose(running);
  if (!id) return;
  const call = async (method: string, path: string, body?: unknown): Promise<number> => {
    ledger.note(id, `${op} sent`);
    const status = (await api(method, path, body)).status;
    ledger.note(id, `${op} ${status}`);
    // 410 sandbox_ended: the server says it was killed (by a concurrent kill whose answer the
    // crash may yet swallow); it must never come back.
    if (status === 410) ledger.gone(id);
    return status;
  };
  if (op === 'exec') await call('POST', `/v1/sandboxes/${id}/exec`, { cmd: 'echo $$ >> /tmp/log' });
  else if (op === 'pause') { if (await call('POST', `/v1/sandboxes/${id}/pause`) === 200) ledger.settled(id, 'paused'); }
  else if (op === 'resume') { if (await call('POST', `/v1/sandboxes/${id}/resume`) === 200) ledger.settled(id, 'running'); }
  else if (op === 'kill') {
    ledger.killSent(id);
    if (await call('DELETE', `/v1/sandboxes/${id}`) === 204) ledger.gone(id);
    ledger.killAnswered(id);
  }
  else if (op === 'fork') {
    const r = await api('POST', `/v1/sandboxes/${id}/fork`, {});
    ledger.note(id, `fork ${r.status}`);
    if (r.status === 201) { const child = (await r.json()).id; ledger.created(child); ledger.note(child, `forked from ${id}`); }
  }
}

/** What the client did to a sandbox and what the servers logged about it. */
function story(home: string, ledger: Ledger, id: string): string {
  const logged = readFileSync(join(home, 'server.log'), 'utf8').split('\n').filter((l) => l.includes(id));
  return `client: [${(ledger.history.get(id) ?? []).join(', ')}]; server log:\n${logged.join('\n')}`;
}

/** What a directory with no sandbox holds, and which processes still name it: the evidence for a leak. */
async function describeStrays(home: string, ids: string[], ledger: Ledger): Promise<string> {
  const parts: string[] = [];
  for (const id of ids) {
    const files = await runCommand('find', [join(home, 'engine', 'sandboxes', id), '-maxdepth', '3']).then((r) => r.stdout.trim(), (e: Error) => e.message);
    const procs = await runCommand('sh', ['-c', `grep -l ${id} /proc/[0-9]*/cmdline 2>/dev/null | while read f; do tr '\\0' ' ' < $f; echo; done; true`])
      .then((r) => r.stdout.trim(), (e: Error) => e.message);
    parts.push(`stray ${id}: ${story(home, ledger, id)}\nfiles:\n${files}\nprocesses naming it:\n${procs || '(none)'}`);
  }
  return parts.join('\n');
}

/** Mounts of sandboxes (the engine also keeps its own, e.g. runsc's state directory). */
const sandboxMounts = (mounts: string[], home: string) => mounts.filter((m) => m.startsWith(join(home, 'engine', 'sandboxes') + '/'));

async function checkInvariants(s: ServerProcess, home: string, ledger: Ledger, round: number): Promise<void> {
  const at = `round ${round}`;
  const api = apiOf(s);
  const list = (await (await api('GET', '/v1/sandboxes?limit=1000')).json()).sandboxes as { id: string; state: string; error?: string }[];
  const failed = list.filter((x) => x.state === 'failed').map((x) => `${x.id}: ${x.error}`);
  assert.equal(s.recovery.lost, 0, `${at}: recovery lost sandboxes: ${JSON.stringify(s.recovery)} ${failed.join('; ')}`);
  const byId = new Map(list.map((x) => [x.id, x.state]));
  for (const id of ledger.ids()) {
    if (!byId.has(id) && ledger.killing.has(id)) ledger.gone(id);
    else if (!byId.has(id)) assert.fail(`${at}: acknowledged sandbox ${id} is gone; ${story(home, ledger, id)}`);
  }
  ledger.killing.clear();
  for (const id of ledger.killed) if (byId.has(id)) assert.fail(`${at}: killed sandbox ${id} came back; ${story(home, ledger, id)}`);
  for (const [id, state] of byId) {
    assert.ok(state === 'running' || state === 'paused', `${at}: ${id} left in '${state}' after recovery`);
    // An unacknowledged create or fork that completed is the server's to keep: the client may
    // find it by listing. It joins the ledger, so later rounds hold it to the same rules.
    ledger.acked.set(id, state as 'running' | 'paused');
    ledger.killed.delete(id);
  }
  for (const id of ledger.ids('running')) {
    // Alive means it answers within a bounded time: a first request may meet a guest connection
    // the restart cut (seen as 'socket hang up'), the next one must get through.
    await waitFor(`${at}: running sandbox ${id} to answer`, async () => {
      const out = await (await api('POST', `/v1/sandboxes/${id}/exec`, { cmd: 'echo ok' })).json();
      if (out.stdout !== 'ok\n') throw new Error(`it answered ${JSON.stringify(out)}`);
      return true;
    }, 60_000, 1000).catch((err: Error) => assert.fail(`${err.message}; ${story(home, ledger, id)}`));
  }
  const host = await hostState({ serverHome: home, engineHome: join(home, 'engine'), network: net });
  const ids = [...byId.keys()].sort();
  const strays = host.sandboxDirs.filter((d) => !byId.has(d));
  if (strays.length > 0 || host.sandboxDirs.length !== ids.length) {
    assert.deepEqual(host.sandboxDirs, ids, `${at}: engine directories match the database; ${await describeStrays(home, strays, ledger)}`);
  }
  const running = ids.filter((id) => byId.get(id) === 'running');
  assert.ok(host.links.length <= ids.length, `${at}: ${host.links.length} veth links for ${ids.length} sandboxes`);
  assert.ok(running.every((id) => host.netns.includes(`agentbox-${id}`)), `${at}: every running sandbox has its network namespace`);
  for (const m of sandboxMounts(host.mounts, home)) assert.ok(ids.some((id) => m.includes(id)), `${at}: mount ${m} belongs to no sandbox`);
}

test(`SIGKILL at random points of a mixed workload, ${ROUNDS} times, loses and leaks nothing (gVisor)`, async (t) => {
  const seed = Number(process.env.AGENTBOX_CHAOS_SEED ?? Date.now() % 1_000_000);
  const pick = rng(seed);
  const home = mkdtempSync(join(tmpdir(), 'agentbox-chaos-'));
  const ledger = new Ledger();
  let s: ServerProcess | undefined;
  let ops = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      s = await boot(home);
      await checkInvariants(s, home, ledger, round).catch((err: Error) => { throw new Error(`${err.message} (AGENTBOX_CHAOS_SEED=${seed})`); });
      const api = apiOf(s);
      let stop = false;
      const worker = async () => {
        while (!stop) {
          try { await step(api, ledger, pick); ops++; } catch { return; }
        }
      };
      const workers = [worker(), worker()];
      await new Promise((r) => setTimeout(r, 200 + pick() * 2500));
      s.child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await exited(s.child);
    }
    s = await boot(home);
    await checkInvariants(s, home, ledger, ROUNDS + 1);
    assert.ok(ops > ROUNDS, `the workload ran (${ops} operations in ${ROUNDS} rounds)`);
    t.diagnostic(`${ops} operations acknowledged or cut by ${ROUNDS} SIGKILLs; ${ledger.ids().length} sandboxes at the end; seed ${seed}`);
    // Killing everything through the API leaves nothing of this engine on the host.
    const api = apiOf(s);
    for (const id of ledger.ids()) assert.equal((await api('DELETE', `/v1/sandboxes/${id}`)).status, 204);
    const host = await hostState({ serverHome: home, engineHome: join(home, 'engine'), network: net });
    assert.deepEqual({ dirs: host.sandboxDirs, links: host.links, mounts: sandboxMounts(host.mounts, home), netns: host.netns, cgroups: host.cgroups },
      { dirs: [], links: [], mounts: [], netns: [], cgroups: [] });
  } finally {
    s?.child.kill('SIGKILL');
    const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: 'gvisor', network: net }).catch(() => undefined);
    if (created) {
      for (const x of created.engine.list()) await created.engine.destroy(x.id).catch(() => undefined);
      await created.engine.close();
      for (const d of created.drivers.values()) await d.releaseStateDir();
    }
    await runCommand('nft', ['delete', 'table', 'inet', net.table]).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
});
