/**
 * The process factory (src/guest/native/launcher.c, built with gcc here as the guest bundle
 * does) and its guest side: a program gets the request's argv, env, cwd, user and stdin, and
 * pipes for stdio; the factory, not the guest, starts every program and reports every exit; a
 * failed exec is an error, not a process; a program outlives a killed factory and a new factory
 * takes over. It also opens files for writing as a user, with that user's permissions, and hands
 * them to the guest.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { XATTR_ADDON_PACKAGE } from '../../src/api/guest-bundle.ts';
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

/** Until `text()` holds `count` lines; fails after 5 s. */
async function waitForLines(text: () => string, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (text().split('\n').length <= count) {
    if (Date.now() > deadline) assert.fail(`expected ${count} lines, got: ${JSON.stringify(text())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
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

  describe('opening files as a user', () => {
    const home = join(dir, 'nobody');
    const xattr = createRequire(import.meta.url)(XATTR_ADDON_PACKAGE) as {
      listAttributesSync(p: string): string[];
      getAttributeSync(p: string, n: string): Buffer | null;
      setAttributeSync(p: string, n: string, v: string): void;
    };
    const attributes = (file: string) => Object.fromEntries(xattr.listAttributesSync(file).sort().map((n) => [n, String(xattr.getAttributeSync(file, n))]));
    before(() => {
      chmodSync(dir, 0o755);
      mkdirSync(home, { mode: 0o755 });
      chownSync(home, nobody.uid, nobody.gid);
    });

    async function openAs(user: typeof nobody, path: string, metadata?: Record<string, string>) {
      const opened = await factory.openAsUser(user, path, metadata);
      assert.ok(opened, 'with a factory binary, files are opened through it');
      return opened;
    }

    it("creates the parents and the file as the user, truncates an existing one, and keeps no copy of the guest's descriptor", async () => {
      const fresh = join(home, 'a/b/new.txt');
      const a = await openAs(nobody, fresh);
      writeSync(a.fd, 'hello');
      closeSync(a.fd);
      assert.equal(readFileSync(fresh, 'utf8'), 'hello');
      assert.deepEqual([statSync(join(home, 'a')).uid, statSync(join(home, 'a/b')).uid, statSync(fresh).uid], [nobody.uid, nobody.uid, nobody.uid]);
      const b = await openAs(nobody, fresh);
      writeSync(b.fd, 'x');
      closeSync(b.fd);
      assert.equal(readFileSync(fresh, 'utf8'), 'x', 'an existing file is truncated');
      // A command's start is handled after the close that followed the open.
      const { parent } = await echoThroughCat('after\n');
      const held = readdirSync(`/proc/${parent}/fd`).map((fd) => { try { return readlinkSync(`/proc/${parent}/fd/${fd}`); } catch { return ''; } });
      assert.ok(!held.includes(fresh), 'the factory closed its descriptor of the file');
    });

    it('refuses what the user could not write, through a planted symlink too, and goes back to root', async () => {
      const rootOnly = join(dir, 'root-only');
      mkdirSync(rootOnly, { mode: 0o700 });
      const secret = join(dir, 'secret');
      writeFileSync(secret, 'secret', { mode: 0o600 });
      symlinkSync(secret, join(home, 'planted'));
      const denied = (err: AgentboxError) => err.code === 'permission_denied' && (err.details as { errno?: string }).errno === 'EACCES';
      await assert.rejects(openAs(nobody, join(rootOnly, 'x/y.txt')), denied);
      await assert.rejects(openAs(nobody, join(home, 'planted')), denied);
      assert.equal(readFileSync(secret, 'utf8'), 'secret');
      assert.equal((await collect(await launch({ cmd: 'id', args: ['-u'] }))).out, '0\n', 'the factory runs as root again');
      const asRoot = await openAs(root, join(rootOnly, 'z.txt'));
      closeSync(asRoot.fd);
      assert.equal(statSync(join(rootOnly, 'z.txt')).uid, 0);
    });

    it('replaces the user.e2b. metadata when asked, keeps other attributes, and leaves it alone otherwise', async () => {
      const file = join(home, 'meta.txt');
      writeFileSync(file, '');
      chownSync(file, nobody.uid, nobody.gid);
      xattr.setAttributeSync(file, 'user.e2b.old', '1');
      xattr.setAttributeSync(file, 'user.other', 'keep');
      const replaced = await openAs(nobody, file, { new: 'v' });
      closeSync(replaced.fd);
      assert.equal(replaced.metadataKept, true);
      assert.deepEqual(attributes(file), { 'user.e2b.new': 'v', 'user.other': 'keep' });
      const untouched = await openAs(nobody, file);
      closeSync(untouched.fd);
      assert.equal(untouched.metadataKept, false);
      assert.deepEqual(attributes(file), { 'user.e2b.new': 'v', 'user.other': 'keep' });
      const emptied = await openAs(nobody, file, {});
      closeSync(emptied.fd);
      assert.deepEqual(attributes(file), { 'user.other': 'keep' });
    });

    it('refuses an open whose count of metadata pairs does not match the pairs sent, and serves on', async () => {
      const raw = spawn(launcher, [], { stdio: ['pipe', 'pipe', 'inherit'] });
      const request = (fields: string[]) => {
        const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
        const head = Buffer.alloc(4);
        head.writeUInt32LE(body.length);
        raw.stdin.write(Buffer.concat([head, body]));
      };
      let out = '';
      raw.stdout.on('data', (b: Buffer) => { out += b; });
      const path = join(home, 'raw.txt');
      // 2^63 pairs: twice that wraps to 0 in 64 bits, as if none were announced.
      request(['open', '1', '0', '0', path, '9223372036854775808']);
      request(['open', '2', '0', '0', path, '1', 'only-a-key']);
      request(['open', '3', '0', '0', path, '-']);
      await waitForLines(() => out, 3);
      raw.stdin.end();
      await once(raw, 'exit');
      const lines = out.trim().split('\n');
      assert.deepEqual(lines.slice(0, 2), ['file-failed 1 22 malformed request', 'file-failed 2 22 malformed request']);
      assert.match(lines[2]!, /^file 3 \d+ 0$/);
    });
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
