// The `agentbox` CLI as a real subprocess (bin/agentbox.mjs) against the real server over the
// FAKE engine (test/support/fake-engine.ts). `agentbox up` on the real engine is in
// test/server/e2e.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { COMMANDS } from '../../src/cli/command-table.ts';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { waitFor } from '../support/wait.ts';
import { bin, runCli } from './run-cli.ts';

let s: FakeServer;
let dir: string;

before(async () => {
  s = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'agentbox-cli-'));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}, stdin?: string | Buffer) =>
  runCli(args, { env: { AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir, ...env }, stdin });

test('create, ls, exec, cp, pause, resume, kill', async () => {
  const c = await cli(['create', '--template', 'busybox', '--env', 'A=1', '--metadata', 'team=x']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  assert.match(id, /^[a-z0-9]{20}$/);
  const json = JSON.parse((await cli(['create', '--template', 'busybox', '--json'])).stdout);
  assert.equal(json.template, 'busybox');

  const ls = await cli(['ls', '--json', '--metadata', 'team=x']);
  assert.deepEqual(JSON.parse(ls.stdout).map((x: { id: string }) => x.id), [id]);
  assert.match((await cli(['ls'])).stdout, new RegExp(`${id}\\s+busybox\\s+running`));

  const ok = await cli(['exec', id, '--', 'sh', '-c', 'echo out $A; echo err >&2']);
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'out 1\n', 'err\n']);
  assert.equal((await cli(['exec', id, '--', 'sh', '-c', 'exit 42'])).code, 42);
  // A command ended by a signal exits as in a shell: 128 + the signal's number.
  for (const [sig, code] of [['TERM', 143], ['KILL', 137], ['INT', 130]] as const) {
    assert.equal((await cli(['exec', id, '--', 'sh', '-c', `kill -${sig} $$`])).code, code, sig);
  }

  // Standard input goes to the command only when asked for (-i), as with docker and kubectl exec.
  const piped = await cli(['exec', '-i', id, '--', 'sh', '-c', 'wc -l; cat'], {}, 'línea 1\nline 2\n');
  assert.deepEqual([piped.code, piped.stdout], [0, '2\n'], piped.stderr);
  const long = await cli(['exec', id, '--stdin', '--', 'cat'], {}, 'x'.repeat(100_000));
  assert.equal(long.stdout.length, 100_000);
  assert.equal((await cli(['exec', id, '--', 'cat'], {}, 'not sent')).stdout, '');
  // Bytes that are not UTF-8 pass both ways unchanged, as through a pipe.
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
  const binary = await cli(['exec', '-i', id, '--', 'cat'], {}, bytes);
  assert.deepEqual([binary.code, binary.stderr], [0, '']);
  assert.ok(binary.stdoutBytes.equals(bytes), 'the bytes that came out are the bytes that went in');
  const tooLarge = await cli(['exec', '-i', id, '--', 'cat'], {}, Buffer.alloc(8 * 1024 * 1024 + 1, 0x61));
  assert.equal(tooLarge.code, 2);
  assert.match(tooLarge.stderr, /standard input is over 8 MiB/);

  const local = join(dir, 'up.txt');
  writeFileSync(local, 'payload');
  assert.equal((await cli(['cp', local, `${id}:/dir/f.txt`])).code, 0);
  assert.equal((await cli(['cp', `${id}:/dir/f.txt`, join(dir, 'down.txt')])).code, 0);
  assert.equal(readFileSync(join(dir, 'down.txt'), 'utf8'), 'payload');
  // As with cp(1), a directory on the receiving side takes the file under its own name.
  assert.equal((await cli(['cp', local, `${id}:/dir/`])).code, 0);
  const into = mkdtempSync(join(dir, 'into-'));
  assert.equal((await cli(['cp', `${id}:/dir/up.txt`, into])).code, 0);
  assert.equal(readFileSync(join(into, 'up.txt'), 'utf8'), 'payload');
  const other = (await cli(['create', '--template', 'busybox'])).stdout.trim();
  assert.equal((await cli(['cp', `${id}:/dir/f.txt`, `${other}:/copied/`])).code, 0, 'sandbox to sandbox');
  assert.equal((await cli(['cp', `${other}:/copied/f.txt`, join(into, 'back.txt')])).code, 0);
  assert.equal(readFileSync(join(into, 'back.txt'), 'utf8'), 'payload');
  // A failed copy leaves what was there and no partial file beside it.
  const failed = await cli(['cp', `${id}:/dir/missing`, join(into, 'back.txt')]);
  assert.deepEqual([failed.code, /not_found/.test(failed.stderr)], [1, true], failed.stderr);
  assert.equal(readFileSync(join(into, 'back.txt'), 'utf8'), 'payload');
  assert.deepEqual(readdirSync(into).sort(), ['back.txt', 'up.txt']);
  const fromDir = await cli(['cp', into, `${id}:/dir/x`]);
  assert.deepEqual([fromDir.code, fromDir.stderr], [2, `agentbox cp: file ${into} is a directory; only one file is sent (pack a tree with tar first)\n`]);
  const noDir = await cli(['cp', `${id}:/dir/f.txt`, `${join(dir, 'no-such-dir')}/`]);
  assert.deepEqual([noDir.code, noDir.stderr], [2, `agentbox cp: directory ${join(dir, 'no-such-dir')}/ does not exist; create it (mkdir -p ${join(dir, 'no-such-dir')}/) or name the file to write\n`]);
  const noParent = await cli(['cp', `${id}:/dir/f.txt`, join(dir, 'no-such-dir', 'f.txt')]);
  assert.deepEqual([noParent.code, noParent.stderr], [2, `agentbox cp: directory ${join(dir, 'no-such-dir')} does not exist; create it (mkdir -p ${join(dir, 'no-such-dir')}) first\n`]);
  const fileAsDir = await cli(['cp', `${id}:/dir/f.txt`, `${local}/`]);
  assert.deepEqual([fileAsDir.code, fileAsDir.stderr], [2, `agentbox cp: ${local}/ is a file, not a directory\n`]);
  const missing = await cli(['cp', join(dir, 'nothing-here'), `${id}:/dir/x`]);
  assert.deepEqual([missing.code, missing.stderr], [2, `agentbox cp: cannot read file ${join(dir, 'nothing-here')}: no such file\n`]);

  assert.match((await cli(['pause', id])).stdout, /paused/);
  const refused = await cli(['exec', id, '--', 'true']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /conflict/);
  assert.match((await cli(['resume', id])).stdout, /running/);
  assert.equal((await cli(['kill', id])).code, 0);
  const gone = await cli(['kill', id]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, new RegExp(`sandbox_ended: sandbox '${id}' was killed at `));
  const unknown = await cli(['kill', 'nosuchsandbox0000000']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not_found/);
});

test('keys, pools and templates', async () => {
  const k = await cli(['keys', 'create', '--tenant', 'cli-team', '--name', 'ci']);
  assert.equal(k.code, 0, k.stderr);
  const key = k.stdout.trim();
  assert.match(key, /^e2b_[0-9a-f]{40}$/);
  const listed = JSON.parse((await cli(['keys', 'ls', '--json'])).stdout) as { id: string; tenant: string }[];
  const mine = listed.find((x) => x.tenant === 'cli-team')!;
  assert.equal((await cli(['ls'], { AGENTBOX_API_KEY: key })).code, 0);
  assert.equal((await cli(['keys', 'ls'], { AGENTBOX_API_KEY: key })).code, 1, 'a tenant key cannot manage keys');
  assert.equal((await cli(['keys', 'revoke', mine.id])).code, 0);
  assert.equal((await cli(['ls'], { AGENTBOX_API_KEY: key })).code, 1);

  assert.match((await cli(['pool', 'set', 'busybox', '--size', '1'])).stdout, /busybox size=1/);
  // OpenSandbox's capacity instead of a size (api/pool-capacity.ts); mixing the two is refused by the server.
  assert.match((await cli(['pool', 'set', 'busybox', '--buffer-min', '0', '--buffer-max', '1', '--pool-min', '0', '--pool-max', '3'])).stdout, /busybox buffer=0\.\.1 pool=0\.\.3 total=\d+ allocated=0/);
  const mixed = await cli(['pool', 'set', 'busybox', '--size', '1', '--pool-max', '3']);
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /either size or all four/);
  assert.match((await cli(['template', 'ls'])).stdout, /busybox\s+ready/);
  // The archive streams to the server (image archives are often over the 2 GiB Node reads whole).
  const archive = join(dir, 'image.tar');
  writeFileSync(archive, Buffer.alloc(3 * 1024 * 1024, 1));
  const imported = await cli(['template', 'import', 'cli-imported', archive]);
  assert.deepEqual([imported.code, imported.stdout], [0, 'cli-imported ready\n'], imported.stderr);
  const notFile = await cli(['template', 'import', 'cli-imported', dir]);
  assert.deepEqual([notFile.code, notFile.stderr], [2, `agentbox template: image archive ${dir} is a directory; only one file is sent (pack a tree with tar first)\n`]);
});

// `agentbox policy` and `agentbox tenant limits`: limits set by name=value, enforced with the
// server's quota_exceeded message, and removed again.
test('tenant limits and policy set, shown, enforced and removed', async () => {
  const key = (await cli(['keys', 'create', '--tenant', 'acme'])).stdout.trim();
  const set = await cli(['tenant', 'limits', 'acme', 'runningSandboxes=1', 'runtimes=gvisor,runc']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /runningSandboxes\s+1\s+\(in use: 0\)/);
  assert.match(set.stdout, /runtimes\s+gvisor,runc/);
  assert.equal((await cli(['create', '--template', 'busybox', '--runtime', 'runc'], { AGENTBOX_API_KEY: key })).code, 0);
  const over = await cli(['create', '--template', 'busybox'], { AGENTBOX_API_KEY: key });
  assert.equal(over.code, 1);
  assert.match(over.stderr, /quota_exceeded: .*runningSandboxes is 1 in use \+ 1 requested, over the maximum of 1/);
  const bad = await cli(['tenant', 'limits', 'acme', 'runningSandboxes=many']);
  assert.equal(bad.code, 2);
  const json = JSON.parse((await cli(['tenant', 'limits', 'acme', 'runningSandboxes=', '--json'])).stdout);
  assert.deepEqual(json.overrides, { runtimes: ['gvisor', 'runc'] });
  assert.equal((await cli(['tenant', 'limits', 'acme', '--reset'])).code, 0);
  assert.deepEqual(JSON.parse((await cli(['tenant', 'limits', 'acme', '--json'])).stdout).overrides, {});
  assert.equal((await cli(['policy', 'set', 'pools=3'])).code, 0);
  const shown = await cli(['policy']);
  assert.match(shown.stdout, /pools\s+3/);
  assert.equal(JSON.parse((await cli(['policy', '--json'])).stdout).defaults.pools, 3);
  const denied = await cli(['policy'], { AGENTBOX_API_KEY: key });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /permission_denied/);
});

test('usage errors exit 2; the local admin key is found without AGENTBOX_API_KEY', async () => {
  assert.equal((await cli(['exec', 'x'])).code, 2);
  assert.equal((await cli(['create', '--bogus'])).code, 2);
  assert.equal((await cli(['nope'])).code, 2);
  writeFileSync(join(dir, 'admin.key'), `${s.server.adminKey}\n`);
  const r = await cli(['ls', '--json'], { AGENTBOX_API_KEY: '' });
  assert.equal(r.code, 0, r.stderr);
});

test('a command\'s help lists the flags of the command table, the ones its parser takes', async () => {
  for (const args of [['create', '--help'], ['help', 'create'], ['create', '--timeout', '60', '-h']]) {
    const r = await cli(args);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^agentbox create: create a sandbox/);
    assert.deepEqual(lines.slice(1).map((l) => l.trim().split(' ')[0]), COMMANDS.create.flags.map((f) => `--${f.name}`));
  }
  assert.match((await cli(['create', '--help'])).stdout, /--runtime RUNTIME +the sandbox runtime \(gvisor\|runc\)/);
  assert.match((await cli(['logs', '--help'])).stdout, /-f, --follow/);
});

// A reader that goes away (`agentbox ls | head -1`) ends a command quietly with 141, the status
// SIGPIPE gives `yes` in `yes | head -1`. The mechanism is one (src/cli/main.ts, io.ts), so these
// stand for every command: the usage text, a table, streamed exec output, an error on stderr.
test('a closed pipe ends a command quietly with status 141', async () => {
  const env = { AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir };
  const id = (await cli(['create', '--template', 'busybox'])).stdout.trim();
  for (const args of [['help'], ['ls'], ['exec', id, '--', 'echo', 'hi'], ['template', 'ls']]) {
    const r = await runCli(args, { env, closeStdout: true });
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 141, stderr: '' }, args.join(' '));
  }
  const refused = await runCli(['kill', 'nosuchsandbox'], { env, closeStderr: true });
  assert.deepEqual({ code: refused.code, stdout: refused.stdout }, { code: 141, stdout: '' });
});

// Every command of the table, each through the output it gives here without side effects: its
// help, and what each listing or report prints (the fake engine's sandboxes have no console, so
// `logs` prints nothing here: sandbox-days.test.ts pipes it). None may end with a stack trace.
test('every command of the command table ends quietly with 141 when its reader goes away', async () => {
  const env = { AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir };
  const id = (await cli(['create', '--template', 'busybox'])).stdout.trim();
  // So that `volumes ls` has a line to print: a listing of nothing writes nothing and ends with 0.
  assert.equal((await cli(['volumes', 'create', 'pipe-data', '--size', '64'])).code, 0);
  const runs = [
    ...Object.keys(COMMANDS).map((name) => [name, '--help']),
    ['ls'], ['ls', '--quiet'], ['ls', '--json'], ['exec', id, '--', 'echo', 'hi'], ['events'], ['events', id, '--json'],
    ['top'], ['template', 'ls'], ['template', 'ls', '--quiet'], ['pool', 'ls'], ['volumes', 'ls'], ['keys', 'ls'],
    ['policy', 'show'], ['tenant', 'limits', 'default'], ['completion', 'bash'], ['completion', 'zsh'], ['doctor', '--json'],
  ];
  for (const args of runs) {
    const r = await runCli(args, { env, closeStdout: true });
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 141, stderr: '' }, `agentbox ${args.join(' ')} | head -0`);
  }
  assert.equal((await cli(['volumes', 'rm', 'pipe-data'])).code, 0);
});

// On a terminal `top` refreshes in place until Ctrl-C. `script` (util-linux) gives it one: the ^C
// written to script's input reaches top through the terminal as SIGINT, as a user's keypress does.
test('top on a terminal refreshes until Ctrl-C', async () => {
  const id = (await cli(['create', '--template', 'busybox'])).stdout.trim();
  const env = { PATH: process.env.PATH ?? '', TERM: 'xterm', AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir };
  const child = spawn('script', ['-qfec', `${process.execPath} ${bin} top --interval 0.1`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  const closed = once(child, 'close');
  await waitFor('two refreshes showing the sandbox', () => out.split('\x1b[H\x1b[2J').length > 2 && out.includes(id), 30_000);
  child.stdin.write('\x03');
  // script -e answers 128 + the signal that ended top: SIGINT.
  assert.deepEqual(await closed, [128 + 2, null]);
});

test('volumes create, ls, mount at create, rm', async () => {
  const made = await cli(['volumes', 'create', 'cli-data', '--size', '64']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^cli-data [0-9a-f-]{36}  64 MiB/);
  assert.equal((await cli(['volumes', 'ls', '--quiet'])).stdout, 'cli-data\n');
  const c = await cli(['create', '--template', 'busybox', '--volume', 'cli-data:/mnt/data', '--json']);
  assert.equal(c.code, 0, c.stderr);
  const id = JSON.parse(c.stdout).id as string;
  const busy = await cli(['volumes', 'rm', 'cli-data']);
  assert.notEqual(busy.code, 0);
  assert.match(busy.stderr, /mounted by a sandbox/);
  assert.equal((await cli(['kill', id])).code, 0);
  assert.equal((await cli(['volumes', 'rm', 'cli-data'])).code, 0);
  assert.equal((await cli(['volumes', 'ls', '--quiet'])).stdout, '');
  const bad = await cli(['create', '--template', 'busybox', '--volume', 'no-colon']);
  assert.match(bad.stderr, /--volume takes NAME:PATH/);
});
