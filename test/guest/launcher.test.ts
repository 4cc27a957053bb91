/**
 * The process factory (src/guest/native/launcher.c, built with gcc here as the guest bundle
 * does) and its guest side: a program gets the request's argv, env, cwd, user and stdin, and
 * pipes for stdio; the factory, not the guest, starts every program and reports every exit; a
 * failed exec is an error, not a process; a program outlives a killed factory and a new factory
 * takes over.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { ProcessFactory, type LaunchRequest } from '../../src/guest/process/process-factory.ts';
import type { LaunchedProcess } from '../../src/guest/process/launched-process.ts';
import { procStatFields } from '../../src/guest/process/proc-stat.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentbox-launcher-'));
const launcher = join(dir, 'agentbox-launcher');
const root = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' };
const nobody = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/bin/false' };
const PATH = '/usr/bin:/bin';

let factory: ProcessFactory;
before(() => {
  execFileSync('gcc', ['-static', '-O2', '-o', launcher, new URL('../../src/guest/native/launcher.c', import.meta.url).pathname]);
  factory = new ProcessFactory(launcher);
});
after(() => {
  factory.close();
  rmSync(dir, { recursive: true, force: true });
});

async function launch(req: Partial<LaunchRequest> & { cmd: string }): Promise<LaunchedProcess> {
  const child = await factory.launch({ args: [], env: { PATH }, cwd: '/', user: root, stdin: false, ...req });
  assert.ok(child, 'with a factory binary, a launch always goes through it');
  return child;
}

function collect(child: LaunchedProcess) {
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => { out += b; });
  child.stderr.on('data', (b: Buffer) => { err += b; });
  return new Promise<{ out: string; err: string; code: number | null; signal: string | null }>((resolve) =>
    child.once('close', (code: number | null, signal: string | null) => resolve({ out, err, code, signal })));
}

/** Runs `cat` on `text`, held open until the parent was read (a program that has ended has no /proc entry). */
async function echoThroughCat(text: string): Promise<{ parent: number; out: string }> {
  const child = await launch({ cmd: 'cat', stdin: true });
  const parent = parentOf(child.pid);
  const done = collect(child);
  child.stdin!.end(text);
  return { parent, out: (await done).out };
}

/** The parent of a running `pid` (field 4 of /proc/<pid>/stat). */
function parentOf(pid: number): number {
  const fields = procStatFields(pid);
  assert.ok(fields, `process ${pid} is gone`);
  return Number(fields[1]);
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => procStatFields(p)?.[1] === String(pid));
}

describe('process factory', () => {
  it('starts the program with the request argv, env, cwd and user, in its own session', async () => {
    const child = await launch({
      cmd: 'sh', args: ['-c', 'echo "$1 $GREETING"; pwd; id -u; echo err >&2; [ "$(ps -o sid= -p $$ | tr -d " ")" = "$$" ] && echo own-session; exit 3', 'x', 'arg1'],
      env: { PATH, GREETING: 'hello' }, cwd: '/tmp', user: nobody,
    });
    const res = await collect(child);
    assert.equal(res.code, 3);
    assert.equal(res.out, 'arg1 hello\n/tmp\n65534\nown-session\n');
    assert.equal(res.err, 'err\n');
  });

  it('keeps stdin open when asked and closes it otherwise', async () => {
    const withStdin = await launch({ cmd: 'cat', stdin: true });
    const done = collect(withStdin);
    withStdin.stdin!.end('piped\n');
    assert.equal((await done).out, 'piped\n');
    const without = await launch({ cmd: 'cat' });
    assert.equal((await collect(without)).out, '');
  });

  it('gives the program pipes of its own user, so /dev/stdin, /dev/stdout and /dev/stderr can be opened', async () => {
    const child = await launch({ cmd: 'sh', args: ['-c', 'cat /dev/stdin > /dev/stdout; echo err > /dev/stderr'], stdin: true, user: nobody });
    const done = collect(child);
    child.stdin!.end('through the pipe\n');
    const res = await done;
    assert.deepEqual([res.out, res.err, res.code], ['through the pipe\n', 'err\n', 0]);
  });

  it('reports the signal that ended a program', async () => {
    const res = await collect(await launch({ cmd: 'sh', args: ['-c', 'kill -TERM $$'] }));
    assert.deepEqual([res.code, res.signal], [null, 'SIGTERM']);
  });

  it('reports a program that cannot start as invalid_argument', async () => {
    await assert.rejects(launch({ cmd: 'no-such-program', env: { PATH: '/bin' } }), (err: AgentboxError) => {
      assert.equal(err.code, 'invalid_argument');
      assert.match(err.message, /no-such-program: No such file or directory/);
      return true;
    });
  });

  it('starts commands back to back and in a burst, from the factory and never the guest', async () => {
    const runs = [];
    for (let i = 0; i < 20; i++) runs.push(await echoThroughCat(`${i}\n`));
    runs.push(...await Promise.all(Array.from({ length: 8 }, (_, i) => echoThroughCat(`burst ${i}\n`))));
    assert.deepEqual(runs.map((r) => r.out), [...Array.from({ length: 20 }, (_, i) => `${i}\n`), ...Array.from({ length: 8 }, (_, i) => `burst ${i}\n`)]);
    const parents = new Set(runs.map((r) => r.parent));
    assert.equal(parents.size, 1, 'one factory is the parent of every program');
    assert.ok(!parents.has(process.pid), 'the guest forked no program itself');
  });

  it('takes a request larger than one read (a 1.2 MiB environment) and keeps no process between commands', async () => {
    // 12 variables of 100 KiB: each below the kernel's 128 KiB per string, 1.2 MiB in all.
    const env: Record<string, string> = { PATH };
    for (let i = 0; i < 12; i++) env[`BIG${i}`] = String(i % 10).repeat(100 << 10);
    const res = await collect(await launch({ cmd: 'sh', args: ['-c', 'printf %s "$BIG0$BIG11" | wc -c'], env }));
    assert.equal(res.out.trim(), String(200 << 10));
    // Slots are pipes, not processes: an idle factory has no child waiting.
    const { parent } = await echoThroughCat('last\n');
    assert.deepEqual(childrenOf(parent), []);
  });

  it('reports a program whose factory was killed once it is gone, and starts a new factory', async () => {
    const child = await launch({ cmd: 'sleep', args: ['0.5'] });
    const factory = parentOf(child.pid);
    const done = collect(child);
    process.kill(factory, 'SIGKILL');
    const res = await done;
    assert.deepEqual([res.code, res.signal], [null, null], 'the exit status died with the factory');
    const next = await echoThroughCat('again\n');
    assert.notEqual(next.parent, factory);
    assert.equal(next.out, 'again\n');
  });
});
