/**
 * The pre-started process launcher (src/guest/native/launcher.c, built with gcc here as the
 * guest bundle does) and its pool: the program it becomes gets the request's argv, env, cwd,
 * user and stdin; a failed exec is an error, not a process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { LauncherPool, type LaunchRequest } from '../../src/guest/process/launcher-pool.ts';
import { waitFor } from '../support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentbox-launcher-'));
const launcher = join(dir, 'agentbox-launcher');
const root = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' };
const nobody = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/bin/false' };

let pool: LauncherPool;
before(() => {
  execFileSync('gcc', ['-static', '-O2', '-o', launcher, new URL('../../src/guest/native/launcher.c', import.meta.url).pathname]);
  pool = new LauncherPool(launcher);
});
after(() => {
  pool.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Launches once the pool has refilled (it refills only when idle, so each try waits longer than that). */
const launch = (req: LaunchRequest) => waitFor('a ready launcher in the pool', () => pool.launch(req), 6000, 60);

function collect(child: NonNullable<Awaited<ReturnType<LauncherPool['launch']>>>) {
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => { out += b; });
  child.stderr!.on('data', (b: Buffer) => { err += b; });
  return new Promise<{ out: string; err: string; code: number | null }>((resolve) => child.once('close', (code) => resolve({ out, err, code })));
}

describe('launcher', () => {
  it('becomes the program with the request argv, env, cwd and user, in its own session', async () => {
    const child = await launch({
      cmd: 'sh', args: ['-c', 'echo "$1 $GREETING"; pwd; id -u; echo err >&2; [ "$(ps -o sid= -p $$ | tr -d " ")" = "$$" ] && echo own-session; exit 3', 'x', 'arg1'],
      env: { PATH: '/usr/bin:/bin', GREETING: 'hello' }, cwd: '/tmp', user: nobody, stdin: false,
    });
    const res = await collect(child);
    assert.equal(res.code, 3);
    assert.equal(res.out, 'arg1 hello\n/tmp\n65534\nown-session\n');
    assert.equal(res.err, 'err\n');
  });

  it('keeps stdin open when asked and closes it otherwise', async () => {
    const withStdin = await launch({ cmd: 'cat', args: [], env: { PATH: '/bin:/usr/bin' }, cwd: '/', user: root, stdin: true });
    const done = collect(withStdin);
    withStdin.stdin!.end('piped\n');
    assert.equal((await done).out, 'piped\n');
    const without = await launch({ cmd: 'cat', args: [], env: { PATH: '/bin:/usr/bin' }, cwd: '/', user: root, stdin: false });
    assert.equal((await collect(without)).out, '');
  });

  it('reports a program that cannot start as invalid_argument', async () => {
    for (let i = 0; i < 100; i++) {
      try {
        const c = await pool.launch({ cmd: 'no-such-program', args: [], env: { PATH: '/bin' }, cwd: '/', user: root, stdin: false });
        if (c) assert.fail('a missing program must not start');
        await new Promise((r) => setTimeout(r, 60)); // longer than the idle time before a refill
      } catch (err) {
        assert.equal((err as AgentboxError).code, 'invalid_argument');
        assert.match((err as Error).message, /no-such-program: No such file or directory/);
        return;
      }
    }
    assert.fail('the pool never had a launcher ready');
  });
});
