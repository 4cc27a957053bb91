// The guest bundle in an image with no Node and no glibc: a busybox-only rootfs, run the way a
// sandbox runs it (own PID namespace, bundle bind-mounted read-only at /opt/agentbox, tini PID 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGuestBundle, parseLdd, type GuestBundle } from '../../src/envd/bundle.ts';
import { createGuestClient, type GuestClient } from '../../src/envd/client.ts';
import { ENVD_VERSION } from '../../src/guest/version.ts';
import { GUEST_CODE, GUEST_CODE_CACHE, GUEST_ENTRY } from '../../src/api/guest-bundle.ts';
import { freePort } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

const BUSYBOX = '/bin/busybox';
const which = (cmd: string) => { try { return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim(); } catch { return ''; } };
const missing = [
  process.getuid?.() !== 0 && 'root',
  !existsSync(BUSYBOX) && `${BUSYBOX} (Debian busybox-static)`,
  !existsSync('/usr/bin/tini-static') && 'tini-static (Debian tini)',
  !which('unshare') && 'unshare', !which('chroot') && 'chroot',
].filter(Boolean);
const skip = missing.length ? `needs ${missing.join(', ')}` : false;

test('parseLdd keeps sonames, host paths and the loader', () => {
  const out = parseLdd([
    '\tlinux-vdso.so.1 (0x00007ffd)',
    '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
  ].join('\n'));
  assert.deepEqual(out, [['libstdc++.so.6', '/lib/x86_64-linux-gnu/libstdc++.so.6'], ['ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2']]);
});


describe('busybox rootfs', { skip }, () => {
  let work: string;
  let bundle: GuestBundle;
  let child: ChildProcess | undefined;
  let client: GuestClient;
  const log: string[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'agentbox-bundle-'));
    bundle = await ensureGuestBundle({ cacheDir: join(work, 'cache') });
    const rootfs = join(work, 'rootfs');
    for (const d of ['bin', 'etc/agentbox', 'opt/agentbox', 'proc', 'dev', 'tmp', 'root', 'home/user']) mkdirSync(join(rootfs, d), { recursive: true });
    execFileSync('cp', [BUSYBOX, join(rootfs, 'bin', 'busybox')]);
    execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
    const port = await freePort();
    writeFileSync(join(rootfs, 'etc/agentbox/guest.json'), JSON.stringify({ port, host: '127.0.0.1', accessToken: 'bb-token', initSecret: 's', envVars: { IN_BUSYBOX: '1' } }));
    // Mounts happen inside the new mount namespace, so they vanish with it.
    const script = [
      `mount --bind ${bundle.dir} ${rootfs}/opt/agentbox`,
      `mount -o remount,bind,ro ${rootfs}/opt/agentbox`,
      `mount -t proc proc ${rootfs}/proc`,
      `mount --rbind /dev ${rootfs}/dev`,
      `exec env -i AGENTBOX_GUEST_CONFIG=/etc/agentbox/guest.json ${which('chroot')} ${rootfs} ${bundle.argv.join(' ')}`,
    ].join(' && ');
    // --kill-child: SIGKILL to unshare (it ignores SIGTERM) takes the namespace's PID 1 with it.
    child = spawn('unshare', ['--fork', '--pid', '--kill-child', '--mount', '--mount-proc', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b) => log.push(String(b)));
    child.stderr!.on('data', (b) => log.push(String(b)));
    client = createGuestClient({ url: `http://127.0.0.1:${port}`, accessToken: 'bb-token' });
    try {
      await client.waitUntilReady({ timeoutMs: 20_000 });
    } catch (err) {
      throw new Error(`guest in busybox did not come up: ${(err as Error).message}\n${log.join('')}`);
    }
  });

  after(async () => {
    client?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the bundle holds node, its loader and libraries, tini, the PTY addon and a manifest', async () => {
    for (const f of [GUEST_ENTRY, GUEST_CODE, GUEST_CODE_CACHE, 'bin/node', 'bin/tini', 'lib/ld-linux-x86-64.so.2', 'lib/libc.so.6', 'node_modules/node-pty/build/Release/pty.node', 'manifest.json']) {
      assert.ok(existsSync(join(bundle.dir, f)), f);
    }
    assert.equal(bundle.envdVersion, ENVD_VERSION);
    assert.equal(JSON.parse(readFileSync(join(bundle.dir, 'manifest.json'), 'utf8')).hash, bundle.hash);
    assert.equal(bundle.argv[0], '/opt/agentbox/bin/tini');
    const again = await ensureGuestBundle({ cacheDir: join(work, 'cache') });
    assert.equal(again.dir, bundle.dir);
  });

  test("the bundle's node accepts its code cache (V8 would compile everything again otherwise)", () => {
    const check = `const { Script } = require('node:vm'); const { readFileSync } = require('node:fs');
      const s = new Script(readFileSync(process.argv[1], 'utf8'), { filename: process.argv[1], cachedData: readFileSync(process.argv[2]) });
      process.stdout.write(String(s.cachedDataRejected));`;
    const rejected = execFileSync(join(bundle.dir, 'bin/node'), ['-e', check, join(bundle.dir, GUEST_CODE), join(bundle.dir, GUEST_CODE_CACHE)], { encoding: 'utf8', env: {} });
    assert.equal(rejected, 'false');
  });

  test('tini is PID 1 and commands run through Start in the busybox image', async () => {
    const r = await client.exec({ cmd: ['/bin/sh', '-c', 'cat /proc/1/comm; echo $IN_BUSYBOX; ls /usr/lib 2>&1 | head -1; test -e /lib/libc.so.6 || echo no-libc'] });
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'tini');
    assert.equal(lines[1], '1');
    assert.equal(lines.at(-1), 'no-libc');
    const u = await client.exec({ cmd: ['id', '-u'], user: 'user' });
    assert.equal(u.stdout.trim(), '1000');
  });

  test('orphans are reaped inside the PID namespace', async () => {
    const r = await client.exec({ cmd: ['/bin/sh', '-c', 'sleep 0.3 & echo $!'] });
    const pid = r.stdout.trim();
    await waitFor(`orphan ${pid} to be reaped`, async () => {
      const state = (await client.exec({ cmd: ['/bin/sh', '-c', `cat /proc/${pid}/stat 2>/dev/null || echo gone`] })).stdout;
      if (state.trim() !== 'gone') throw new Error(`still there: ${state}`);
      return true;
    }, 5000, 100);
  });

  test('a PTY works from the bundled addon', async () => {
    // The short sleep keeps the slave open until the output is read: a PTY whose last process
    // exits at once can lose its final bytes on Linux (the master reads EIO), as in any terminal.
    const stream = client.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'tty; stty size; sleep 0.2'] }, pty: { size: { cols: 77, rows: 11 } } });
    let out = '';
    for await (const res of stream) {
      const ev = res.event?.event;
      if (ev?.case === 'data') out += Buffer.from(ev.value.output.value!).toString();
    }
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.match(out, /11 77/);
  });
});
