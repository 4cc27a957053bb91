// Lifecycle events from the SDK (`Sandbox.events`, `sbx.events`) and the CLI (`agentbox events
// [-f]`), against the real server over the FAKE engine (test/support/fake-engine.ts): what is
// tested is the client side of `GET /v1/events`; the events of real sandboxes are in
// test/server/events.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Sandbox, type SandboxEvent } from 'agentbox';
import { bin, runCli } from '../cli/run-cli.ts';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { waitFor } from '../support/wait.ts';

let s: FakeServer;
let conn: { apiUrl: string; apiKey: string };
let dir: string;

before(async () => {
  s = await startFakeServer();
  conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
  dir = mkdtempSync(join(tmpdir(), 'agentbox-events-cli-'));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const collect = async (it: AsyncIterable<SandboxEvent>) => { const out: SandboxEvent[] = []; for await (const e of it) out.push(e); return out; };

test('Sandbox.events lists stored events, filtered by sandbox and type; sbx.events follows live ones', async () => {
  const sbx = await Sandbox.create({ ...conn, template: 'busybox', metadata: { who: 'sdk' } });
  await sbx.pause();
  await sbx.resume();
  const mine = await collect(sbx.events());
  assert.deepEqual(mine.map((e) => e.type), ['sandbox.lifecycle.created', 'sandbox.lifecycle.paused', 'sandbox.lifecycle.resumed']);
  assert.deepEqual(mine[0]!.metadata, { who: 'sdk' });
  const created = await collect(Sandbox.events({ ...conn, types: ['sandbox.lifecycle.created'] }));
  assert.ok(created.some((e) => e.sandboxId === sbx.sandboxId) && created.every((e) => e.type === 'sandbox.lifecycle.created'));
  assert.deepEqual((await collect(Sandbox.events({ ...conn, sandboxId: sbx.sandboxId, after: mine[1]!.seq }))).map((e) => e.seq), [mine[2]!.seq]);

  const ac = new AbortController();
  const live: SandboxEvent[] = [];
  const following = (async () => { for await (const e of sbx.events({ follow: true, signal: ac.signal })) live.push(e); })();
  await waitFor('the stored events on the stream', () => live.length === 3);
  await sbx.kill();
  await waitFor('the kill on the stream', () => live.some((e) => e.type === 'sandbox.lifecycle.killed'));
  ac.abort();
  await following;
  assert.deepEqual(live.map((e) => e.type.replace('sandbox.lifecycle.', '')), ['created', 'paused', 'resumed', 'killed']);
});

test('agentbox events [ID] prints one line per event; -f keeps printing new ones', async () => {
  const env = { AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir };
  const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
  const listed = await runCli(['events', sbx.sandboxId], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`^\\S+  created  ${sbx.sandboxId}  busybox\\n$`));
  const json = await runCli(['events', sbx.sandboxId, '--json'], { env });
  assert.equal(JSON.parse(json.stdout).sandboxId, sbx.sandboxId);
  assert.match((await runCli(['events', '--help'], { env })).stdout, /-f, --follow/);

  const child = spawn(process.execPath, [bin, 'events', sbx.sandboxId, '-f'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  try {
    await waitFor('the stored event', () => out.includes(' created '));
    await sbx.kill();
    await waitFor('the kill, followed', () => /killed +\S+  busybox \(killed\)/.test(out));
  } finally { child.kill('SIGKILL'); }
});
