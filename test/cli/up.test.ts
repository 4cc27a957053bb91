// `agentbox up` from the CLI on the REAL engine: no configuration but AGENTBOX_HOME, the admin
// key written 0600, the web console at /ui/ on the same port, then `create`/`exec`/`kill` through the CLI with only AGENTBOX_HOME set
// (the CLI finds the local key) and AGENTBOX_URL for the free port. Skipped only outside CI and
// only when the engine refuses to start because the runc runtime class cannot run here.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTemplateStore } from '../../src/engine/index.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { exited, readFirstLine } from '../support/child-process.ts';
import { waitFor } from '../support/wait.ts';

const bin = new URL('../../bin/agentbox.mjs', import.meta.url).pathname;

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

/** `agentbox up` of busybox on a free port; `first` is its first line, or why it cannot run here. */
function startUp(runtime: 'runc' | 'gvisor', env: Record<string, string>): { child: ChildProcess; stderr: () => string; first: Promise<string | { skip: string }> } {
  const child = spawn(process.execPath, [bin, 'up', '--port', '0', '--runtime', runtime, '--template', 'busybox'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c) => { err += c; });
  const first = readFirstLine('agentbox up', child, 180_000).catch(() => {
    if (err.includes(`runtime class '${runtime}' is not available`)) return { skip: skipOutsideCI(`${runtime} cannot run here: ${err.slice(-300)}`, 'run ./scripts/setup.sh as root') };
    throw new Error(`agentbox up did not start: ${err.slice(-2000)}`);
  });
  return { child, stderr: () => err, first };
}

test('agentbox up serves the API and the web console on one port, then create/exec/shell/kill with the local admin key', { timeout: 600_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-up-'));
  const env = { AGENTBOX_HOME: home, AGENTBOX_API_KEY: '', AGENTBOX_URL: '' };
  const up = startUp('runc', env);
  try {
    const first = await up.first;
    if (typeof first !== 'string') return t.skip(first.skip);
    const url = /running on (http:\/\/\S+)/.exec(first)?.[1];
    assert.ok(url, first);
    assert.match(up.stderr(), /building the 'busybox' template|\[/);
    assert.equal(statSync(join(home, 'admin.key')).mode & 0o777, 0o600);
    // The web console on the API's own port (the bundle setup.sh builds; its pages: test/console).
    const ui = await fetch(`${url}/ui/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<script [^>]*src="assets\/console-[^"]+\.js"/);
    const cliEnv = { ...env, AGENTBOX_URL: url };
    const c = await run(['create', '--template', 'busybox'], cliEnv);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const e = await run(['exec', id, '--', 'sh', '-c', 'echo from $(hostname); exit 3'], cliEnv);
    assert.deepEqual([e.code, e.stdout], [3, `from ${id}\n`]);
    const sh = await run(['shell', id, '--', 'sh', '-c', 'stty size; exit 4'], cliEnv);
    assert.equal(sh.code, 4, sh.stderr);
    assert.match(sh.stdout, /24 80/);
    assert.equal((await run(['kill', id], cliEnv)).code, 0);
  } finally {
    up.child.kill('SIGTERM');
    await exited(up.child);
    rmSync(home, { recursive: true, force: true });
  }
});

test('agentbox up rebuilds a shipped template built from an older shipped recipe, serving the old build meanwhile', { timeout: 600_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-up-upgrade-'));
  // What an older agentbox left: busybox built from a recipe it shipped then (a record of that
  // time carries no 'shipped' mark).
  await (await openTemplateStore({ home })).ensure('busybox');
  const record = join(home, 'templates', 'busybox.json');
  const old = JSON.parse(readFileSync(record, 'utf8')) as { recipe: { description: string }; shipped?: boolean; buildId: string };
  old.recipe.description = 'the recipe an older agentbox shipped';
  old.buildId = 'older';
  delete old.shipped;
  writeFileSync(record, JSON.stringify(old));
  const up = spawn(process.execPath, [bin, 'up', '--port', '0', '--runtime', 'runc', '--template', 'busybox'], { env: { ...process.env, AGENTBOX_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  up.stderr.on('data', (c) => { err += c; });
  try {
    assert.ok(await readFirstLine('agentbox up', up, 180_000).catch(() => undefined), err.slice(-2000));
    assert.doesNotMatch(err, /building the 'busybox' template/, 'the old build serves: up does not wait for the rebuild');
    await waitFor('the rebuild', () => /template 'busybox' rebuilt from the shipped recipe/.test(err), 300_000);
    const now = JSON.parse(readFileSync(record, 'utf8')) as { recipe: { description: string }; shipped: boolean; buildId: string };
    assert.notEqual(now.buildId, 'older');
    assert.equal(now.shipped, true);
    assert.notEqual(now.recipe.description, old.recipe.description);
  } finally {
    up.kill('SIGTERM');
    await exited(up);
    rmSync(home, { recursive: true, force: true });
  }
});

test('agentbox up makes the golden snapshot of a built shipped template, so its first creates restore it', { timeout: 600_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-up-golden-'));
  const env = { AGENTBOX_HOME: home, AGENTBOX_API_KEY: '', AGENTBOX_URL: '' };
  await (await openTemplateStore({ home })).ensure('busybox');
  const up = startUp('gvisor', env);
  try {
    const first = await up.first;
    if (typeof first !== 'string') return t.skip(first.skip);
    const cliEnv = { ...env, AGENTBOX_URL: /running on (http:\/\/\S+)/.exec(first)![1]! };
    await waitFor('the golden snapshot', () => /template 'busybox': golden snapshot made/.test(up.stderr()), 300_000);
    // Copies of one golden snapshot share its kernel's boot_id; a booted sandbox has its own.
    const bootIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await run(['create', '--template', 'busybox'], cliEnv);
      assert.equal(c.code, 0, c.stderr);
      const e = await run(['exec', c.stdout.trim(), '--', 'cat', '/proc/sys/kernel/random/boot_id'], cliEnv);
      assert.equal(e.code, 0, e.stderr);
      bootIds.push(e.stdout.trim());
      assert.equal((await run(['kill', c.stdout.trim()], cliEnv)).code, 0);
    }
    assert.match(bootIds[0]!, /^[0-9a-f-]{36}$/);
    assert.equal(bootIds[1], bootIds[0], 'both creates restored the golden snapshot');
  } finally {
    up.child.kill('SIGTERM');
    await exited(up.child);
    // runsc bind-mounts a namespace into its state dir once per process that needed one (driver.ts releaseStateDir).
    while (spawnSync('umount', ['-l', join(home, 'run', 'gvisor', 'null-netns')]).status === 0);
    rmSync(home, { recursive: true, force: true });
  }
});
