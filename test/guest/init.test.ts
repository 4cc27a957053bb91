// test-file-guests: typescript native
// PID-1 duties: orphans are reaped by tini in front of the guest, and the template's start
// command is launched at boot.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, GUEST_BIN, startGuest, TINI, type RunningGuest } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

function stat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

describe('under tini', { skip: existsSync(TINI) ? false : `${TINI} missing (Debian package tini)` }, () => {
  let g: RunningGuest;
  let marker: string;
  before(async () => {
    marker = join('/tmp', `agentbox-start-${process.pid}-${Date.now()}`);
    g = await startGuest({ tini: true, config: { start: { cmd: ['/bin/sh', '-c', `echo started-$GREETING > ${marker}; echo hello-from-start; exec sleep 60`], env: { GREETING: 'hi' } } } });
  });
  after(async () => {
    await g?.stop();
    rmSync(marker, { force: true });
  });

  test('an orphan is re-parented to tini and reaped when it exits (no zombie left)', async () => {
    const r = await g.client.exec({ cmd: ['/bin/sh', '-c', 'sleep 0.6 & echo $!'] });
    const orphan = Number(r.stdout.trim());
    assert.ok(orphan > 0);
    await waitFor('tini to adopt the orphan', () => stat(orphan)?.ppid === g.pid, 2000);
    await waitFor('tini to reap the orphan', () => stat(orphan) === undefined, 5000);
    const zombies = listChildren(g.pid).filter((p) => stat(p)?.state === 'Z');
    assert.deepEqual(zombies, []);
  });

  test('the start command runs at boot with its env, as a listed process tagged "start"', async () => {
    await waitFor('the start command to write its marker', () => existsSync(marker) && readFileSync(marker, 'utf8') === 'started-hi\n');
    const listed = await g.client.process.list({});
    assert.ok(listed.processes.some((p) => p.tag === 'start'));
    await waitFor("the start command's output in the log", () => g.logs.some((l) => l.includes('hello-from-start')));
    // GET /start-command reports it running with its output, to the access token only.
    assert.deepEqual(await g.client.startCommand(), { state: 'running', output: ['hello-from-start'] });
    assert.equal((await fetch(`${g.url}/start-command`)).status, 401);
  });
});

describe('GET /start-command', () => {
  test('reports how the start command ended, with its last output; 404 without one', async () => {
    const g = await startGuest({ config: { start: { cmd: ['/bin/sh', '-c', 'echo going; printf "no config" >&2; exit 5'] } } });
    const none = await startGuest();
    try {
      await waitFor('the start command to end', async () => (await g.client.startCommand())?.state === 'ended');
      assert.deepEqual(await g.client.startCommand(), {
        state: 'ended', end: { exitCode: 5, exited: true, status: 'exit status 5' }, output: ['going', 'no config'],
      });
      assert.equal(await none.client.startCommand(), undefined);
      assert.equal((await fetch(`${none.url}/start-command`, { headers: { 'x-access-token': none.accessToken } })).status, 404);
    } finally {
      await g.stop();
      await none.stop();
    }
  });

  test('reports a start command that could not be launched', async () => {
    const g = await startGuest({ config: { start: { cmd: ['/no/such/program'] } } });
    try {
      const s = await waitFor('the launch to fail', async () => { const r = await g.client.startCommand(); return r?.state !== 'launching' && r; });
      assert.equal(s?.state, 'failed', JSON.stringify(s));
      assert.match(s?.error ?? '', /cannot start '\/no\/such\/program'/);
    } finally {
      await g.stop();
    }
  });
});

describe('agent-sandbox runtime', () => {
  test('served on agentSandboxRuntimePort only when configured', { skip: GUEST_BIN ? 'the native guest does not serve the agent-sandbox runtime yet' : false }, async () => {
    const port = await freePort();
    const base = join('/tmp', `agentbox-asr-${process.pid}-${Date.now()}`);
    // MALLOC_ARENA_MAX as the engine sets it for the guest alone (src/engine/bundle.ts).
    const g = await startGuest({ config: { agentSandboxRuntimePort: port }, env: { SANDBOX_BASE_DIR: base, MALLOC_ARENA_MAX: '1' } });
    try {
      // tsx compiles the runtime module on first use, which takes seconds on a busy machine.
      await waitFor('the agent-sandbox runtime to listen', () => g.logs.some((l) => l.includes('agent-sandbox runtime listening')), 30_000);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 200);
      // Its commands inherit the guest's environment, less what was meant for the guest's malloc.
      mkdirSync(base, { recursive: true });
      const run = await fetch(`http://127.0.0.1:${port}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command: 'env' }) });
      const out = await run.json() as { stdout: string; exit_code: number };
      assert.equal(out.exit_code, 0, JSON.stringify(out));
      assert.match(out.stdout, /^SANDBOX_BASE_DIR=/m);
      assert.doesNotMatch(out.stdout, /MALLOC_ARENA_MAX/);
    } finally {
      await g.stop();
      rmSync(base, { recursive: true, force: true });
    }
  });
});

function listChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && stat(pid)?.ppid === ppid) out.push(pid);
  }
  return out;
}
