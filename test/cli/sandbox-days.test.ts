// test-file-timeout: 20 min
// What a daily user of the CLI sees of a sandbox's life, on the REAL server with gVisor
// sandboxes: `create` says when the sandbox times out; a call on one that expired or was
// killed says so and when (sandbox_ended; 404 to E2B's clients; not_found to other tenants);
// `logs` (and `-f`) shows the start command's output; `top` its cgroup's figures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NotFoundError, Sandbox, SandboxEndedError } from 'agentbox';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { waitFor } from '../support/wait.ts';
import { bin, runCli } from './run-cli.ts';

let s: RealServer | undefined;
let skip: string | false = false;
let dir: string;
let env: Record<string, string>;

before(async () => {
  const r = await startRealServer('cli-days', { runtime: 'gvisor' });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
  dir = mkdtempSync(join(tmpdir(), 'agentbox-cli-days-'));
  env = { AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir };
});
after(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

test('create prints the timeout; calls on an expired sandbox say it expired, and when', { timeout: 300_000 }, async (t) => {
  if (skip || !s) return t.skip(skip || 'no server');
  const c = await cli(['create', '--template', 'busybox', '--timeout', '2']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  assert.match(id, /^[a-z0-9]{20}$/, 'stdout holds the id alone');
  assert.match(c.stderr, new RegExp(`^sandbox ${id} is killed after 2s at ${ISO}; \`agentbox timeout ${id} SECONDS\` changes it\\n$`));

  const gone = await waitFor('the sandbox to expire', async () => {
    const r = await s!.api(`/v1/sandboxes/${id}`);
    return r.status === 410 && r.json();
  }, 60_000, 100);
  assert.equal(gone.code, 'sandbox_ended');
  assert.equal(gone.details.reason, 'expired');
  assert.match(gone.details.endedAt, new RegExp(`^${ISO}$`));

  const exec = await cli(['exec', id, '--', 'true']);
  assert.equal(exec.code, 1);
  assert.equal(exec.stderr, `agentbox exec: sandbox_ended: sandbox '${id}' expired (its timeout ran out) at ${gone.details.endedAt}; create a new one\n`);

  // Another tenant learns nothing: the same answer as for an id nobody had.
  const other = (await cli(['keys', 'create', '--tenant', 'days-other'])).stdout.trim();
  const theirs = await s.api(`/v1/sandboxes/${id}`, { key: other });
  assert.deepEqual([theirs.status, (await theirs.json()).code], [404, 'not_found']);
  // E2B's clients keep E2B's answer for a sandbox that is gone: 404, with the reason in the message.
  const e2b = await fetch(`${s.server.url}/e2b/sandboxes/${id}`, { headers: { 'X-API-Key': s.server.adminKey } });
  assert.equal(e2b.status, 404);
  assert.match(((await e2b.json()) as { message: string }).message, /expired/);
  // The SDK's class for it, a NotFoundError too.
  const err = await Sandbox.connect(id, { apiUrl: s.server.url, apiKey: s.server.adminKey }).catch((e: unknown) => e);
  assert.ok(err instanceof SandboxEndedError && err instanceof NotFoundError, String(err));
  assert.equal(err.reason, 'expired');
  assert.equal(err.endedAt?.toISOString(), gone.details.endedAt);
});

test('a killed sandbox says it was killed', { timeout: 300_000 }, async (t) => {
  if (skip || !s) return t.skip(skip || 'no server');
  const id = (await cli(['create', '--template', 'busybox'])).stdout.trim();
  assert.equal((await cli(['kill', id])).code, 0);
  const again = await cli(['kill', id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`^agentbox kill: sandbox_ended: sandbox '${id}' was killed at ${ISO}; create a new one\\n$`));
});

test('logs shows the start command\'s output and follows it until the sandbox ends; top shows its cgroup', { timeout: 600_000 }, async (t) => {
  if (skip || !s) return t.skip(skip || 'no server');
  // The start command says one line, then repeats whatever the test drops into /tmp/say.
  const built = await s.api('/v1/templates', { method: 'POST', json: {
    name: 'chatty', from: { template: 'busybox' },
    start: { cmd: ['/bin/sh', '-c', 'echo hello-from-start; while true; do if [ -f /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.1; done'] },
  } });
  assert.equal(built.status, 201, await built.clone().text());
  const id = (await cli(['create', '--template', 'chatty'])).stdout.trim();
  const logs = await waitFor('the start command to say hello', async () => {
    const r = await cli(['logs', id]);
    return r.code === 0 && r.stdout.includes('hello-from-start') && r.stdout;
  }, 60_000, 200);
  // The guest's log is JSON lines; the start command's output is in it, by stream.
  const said = (text: string, msg: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; source?: string }).find((l) => l.msg === msg);
  assert.equal(said(logs, 'hello-from-start')?.source, 'start:stdout');

  const follow = spawn(process.execPath, [bin, 'logs', '-f', id], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let followed = '';
  follow.stdout.on('data', (c) => { followed += c; });
  const ended = new Promise<number | null>((resolve) => follow.on('close', resolve));
  await waitFor('logs -f to print what is there', () => followed.includes('"msg":"hello-from-start"'), 60_000);
  assert.equal((await cli(['exec', id, '--', 'sh', '-c', 'echo said-later > /tmp/say'])).code, 0);
  await waitFor('logs -f to print what came later', () => followed.includes('"msg":"said-later"'), 60_000);

  // `agentbox logs -f ID | head -1`: a follow that would run on ends at once, quietly, when its reader goes.
  const piped = await runCli(['logs', '-f', id], { env, closeStdout: true, timeoutMs: 60_000 });
  assert.deepEqual({ code: piped.code, stderr: piped.stderr }, { code: 141, stderr: '' });

  const top = await cli(['top', '--once', '--interval', '0.2']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^ID\s+TEMPLATE\s+STATE\s+CPU%\s+CPU TIME\s+MEMORY\s+LIMIT\s+PIDS\s+DISK\n/);
  const row = new RegExp(`^${id}\\s+chatty\\s+running\\s+(\\d+\\.\\d)\\s+(\\d+\\.\\d)s\\s+(\\d+\\.\\d)M\\s+\\d+M\\s+(\\d+)\\s+\\S+/\\S+$`, 'm').exec(top.stdout);
  assert.ok(row, top.stdout);
  assert.ok(Number(row[3]) > 0 && Number(row[4]) > 0, `memory and pids of a live sandbox: ${row[0]}`);
  const sbx = await Sandbox.connect(id, { apiUrl: s.server.url, apiKey: s.server.adminKey });
  const usage = await sbx.usage();
  assert.ok(usage.memoryBytes > 0 && usage.pids > 0 && usage.cpuNanos > 0, JSON.stringify(usage));
  let text = '';
  for await (const chunk of sbx.logs()) text += chunk;
  assert.equal(said(text, 'said-later')?.source, 'start:stdout');

  // Killing the sandbox ends the follow by itself.
  assert.equal((await cli(['kill', id])).code, 0);
  assert.equal(await ended, 0);
});
