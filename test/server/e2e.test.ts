// test-file-guests: typescript native
// End to end on the REAL engine (runc + the busybox template; gVisor for checkpoint pause),
// driven through the SDK. Skipped, with the reason, only outside CI and only when the engine
// reports that runc cannot run on this host (test/support/real-server.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CommandExitError, InvalidArgumentError, NotFoundError, Sandbox } from 'agentbox';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { waitFor } from '../support/wait.ts';

let s: RealServer | undefined;
let skip: string | false = false;
let conn: { apiUrl: string; apiKey: string };

before(async () => {
  const r = await startRealServer('e2e');
  if (typeof r === 'string') { skip = r; return; }
  s = r;
  conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
});
after(async () => { await s?.stop(); });

const counter = async (sbx: Sandbox) => Number((await sbx.files.read('/tmp/counter').catch(() => '0')).trim());
/** Waits until the sandbox's counter loop has moved past `from`: the process is running. */
const counterPasses = (sbx: Sandbox, from: number) => waitFor(`the counter to pass ${from}`, async () => (await counter(sbx)) > from, 30_000, 100);

describe('sdk on the real engine', () => {
  test('commands: foreground, env at create, exit errors', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox', envs: { FROM_CREATE: 'yes' } });
    assert.equal((await sbx.commands.run('echo $FROM_CREATE $X', { envs: { X: 'x' } })).stdout, 'yes x\n');
    const out: string[] = [];
    await sbx.commands.run('echo a; sleep 0.2; echo b', { onStdout: (d) => out.push(d) });
    assert.equal(out.join(''), 'a\nb\n');
    const err = await sbx.commands.run('exit 5').catch((e: unknown) => e);
    assert.ok(err instanceof CommandExitError && err.exitCode === 5);
    await sbx.kill();
  });

  test('exec through the native API carries any bytes with encoding base64, buffered and streamed', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    const bytes = randomBytes(200_000); // several of the guest's output frames
    const json = { cmd: 'cat', stdin: bytes.toString('base64'), encoding: 'base64' };
    const path = `/v1/sandboxes/${sbx.sandboxId}/exec`;
    const r = await (await s!.api(path, { method: 'POST', json })).json();
    assert.equal(r.exitCode, 0);
    assert.ok(Buffer.from(r.stdout, 'base64').equals(bytes), 'buffered: the bytes out are the bytes in');
    const res = await s!.api(path, { method: 'POST', headers: { Accept: 'application/x-ndjson' }, json });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; data?: string });
    const streamed = Buffer.concat(lines.filter((l) => l.type === 'stdout').map((l) => Buffer.from(l.data!, 'base64')));
    assert.ok(streamed.equals(bytes), 'streamed: the bytes out are the bytes in');
    assert.deepEqual(lines.at(-1), { type: 'end', exitCode: 0 });
    await sbx.kill();
  });

  test('background command: stdin, output, kill', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    const cat = await sbx.commands.run('cat', { background: true });
    assert.ok(cat.pid > 0);
    await cat.sendStdin('hello\n');
    await waitFor('cat to echo its stdin', () => cat.stdout.includes('hello'), 5000);
    assert.equal(cat.stdout, 'hello\n');
    assert.equal(await cat.kill(), true);
    await assert.rejects(cat.wait(), CommandExitError);
    const done = await sbx.commands.run('echo bg', { background: true });
    assert.equal((await done.wait()).stdout, 'bg\n');
    await sbx.kill();
  });

  test('pty', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    let screen = '';
    const term = await sbx.pty.create({ cols: 100, rows: 30, onData: (d) => { screen += Buffer.from(d).toString(); } });
    await term.sendInput('stty size; exit\n');
    const end = await term.wait();
    assert.equal(end.exitCode, 0);
    assert.match(screen, /30 100/);
    await sbx.kill();
  });

  test('files through the guest, with bad paths refused', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    await sbx.files.write('/tmp/d/hello.txt', 'hi there');
    assert.equal(await sbx.files.read('/tmp/d/hello.txt'), 'hi there');
    assert.equal((await sbx.commands.run('cat /tmp/d/hello.txt')).stdout, 'hi there');
    assert.deepEqual((await sbx.files.list('/tmp/d')).map((e) => [e.name, e.type, e.size]), [['hello.txt', 'file', 8]]);
    assert.equal(await sbx.files.exists('/tmp/d/nope'), false);
    await sbx.files.remove('/tmp/d');
    await assert.rejects(sbx.files.read('/tmp/d/hello.txt'), NotFoundError);
    await assert.rejects(sbx.files.write('/tmp/../../etc/x', 'x'), InvalidArgumentError);
    const events: string[] = [];
    // watch() resolves once the watch is live inside the sandbox: a write after it is reported.
    const w = await sbx.files.watch('/tmp', (e) => events.push(`${e.type}:${e.name}`));
    await sbx.files.write('/tmp/watched.txt', 'x');
    await waitFor('the watched file event', () => events.some((e) => e.endsWith('watched.txt')), 10_000);
    w.stop();
    await sbx.kill();
  });

  test('a port inside the sandbox through the server', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    await sbx.files.write('/tmp/www/index.html', 'served from the sandbox');
    await sbx.commands.run('busybox httpd -p 8080 -h /tmp/www', { background: true });
    const body = await waitFor('httpd to serve through the port route', async () => {
      const res = await s!.api(`/v1/sandboxes/${sbx.sandboxId}/ports/8080/index.html`);
      if (res.status === 200) return res.text();
      await res.arrayBuffer();
      return null;
    }, 10_000, 100);
    assert.equal(body, 'served from the sandbox');
    await sbx.kill();
  });

  test('gVisor: a port answers on the proxy\'s kept-alive connections after a pause and a /v1 resume', async (t) => {
    if (skip) return t.skip(skip);
    // A resume leaves the host side of old connections to the sandbox dead (a files-only pause
    // cold-boots the guest): the service has the proxy drop them, or the next proxied request
    // on one fails with ECONNRESET.
    const res = await s!.api('/v1/sandboxes', { method: 'POST', json: { template: 'busybox', runtime: 'gvisor', onTimeout: 'pause_filesystem' } });
    const { id } = (await res.json()) as { id: string };
    // The guest daemon keeps connections alive, so the proxy pools one to the sandbox.
    const health = async () => {
      const r = await s!.api(`/v1/sandboxes/${id}/ports/49983/health`);
      return { status: r.status, body: await r.text() };
    };
    assert.equal((await health()).status, 204);
    assert.equal((await health()).status, 204);
    assert.equal((await s!.api(`/v1/sandboxes/${id}/timeout`, { method: 'POST', json: { timeoutSeconds: 1 } })).status, 200);
    await waitFor('the timeout to pause the sandbox', async () => (await (await s!.api(`/v1/sandboxes/${id}`)).json()).state === 'paused', 30_000, 100);
    assert.equal((await s!.api(`/v1/sandboxes/${id}/resume`, { method: 'POST' })).status, 200);
    assert.deepEqual(await health(), { status: 204, body: '' });
    assert.equal((await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE' })).status, 204);
  });

  test('pause/resume keeps a running process; kill removes the files', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    const bg = await sbx.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.1; done', { background: true });
    await counterPasses(sbx, 2);
    await sbx.pause();
    assert.equal((await sbx.getInfo()).state, 'paused');
    await sbx.resume();
    await counterPasses(sbx, await counter(sbx));
    assert.equal((await sbx.commands.run(`kill -0 ${bg.pid} && echo alive`)).stdout, 'alive\n');
    await sbx.files.write('/home/user/kept.txt', 'on disk');
    const dir = join(s!.created.home, 'sandboxes', sbx.sandboxId);
    assert.ok(existsSync(dir), `the sandbox's directory ${dir} exists while it lives`);
    await sbx.kill();
    assert.equal(s!.created.engine.list().some((x) => x.id === sbx.sandboxId), false);
    assert.equal(existsSync(dir), false, 'kill removed the sandbox directory (record, bundle, writable layer)');
  });

  test('tenant isolation on real sandboxes', async (t) => {
    if (skip) return t.skip(skip);
    const key = (await (await s!.api('/v1/keys', { method: 'POST', json: { tenant: 'other' } })).json()).key as string;
    const mine = await Sandbox.create({ ...conn, template: 'busybox' });
    await assert.rejects(Sandbox.connect(mine.sandboxId, { apiUrl: conn.apiUrl, apiKey: key }), NotFoundError);
    const res = await s!.api(`/v1/sandboxes/${mine.sandboxId}/exec`, { method: 'POST', key, json: { cmd: 'true' } });
    assert.equal(res.status, 404);
    await mine.kill();
  });

  test('gVisor: pause checkpoints (no memory held), resume continues the process, fork copies it', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox', runtime: 'gvisor' });
    assert.equal((await sbx.getInfo()).runtime, 'gvisor');
    await sbx.commands.run('i=0; while true; do i=$((i+1)); echo $i > /tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.1; done', { background: true });
    await counterPasses(sbx, 2);
    await sbx.pause();
    const usage = await s!.created.engine.inspect(sbx.sandboxId);
    assert.equal(usage.pid, undefined, 'a checkpointed sandbox has no running process on the host');
    await sbx.resume();
    await counterPasses(sbx, await counter(sbx));
    await sbx.files.write('/tmp/marker', 'from the parent');
    const child = await sbx.fork({ metadata: { forked: 'yes' } });
    assert.notEqual(child.sandboxId, sbx.sandboxId);
    assert.equal(await child.files.read('/tmp/marker'), 'from the parent');
    assert.deepEqual((await child.getInfo()).metadata, { forked: 'yes' });
    // The fork checkpointed the parent: its file requests still work (the server's kept-alive
    // connections to it were dropped, not reused dead; server/guest-files.ts forget).
    await child.files.write('/tmp/marker', 'from the child');
    assert.equal(await sbx.files.read('/tmp/marker'), 'from the parent');
    await child.kill();
    await sbx.kill();
  });

  test('templates: a tenant builds a private template; bad recipes change nothing', async (t) => {
    if (skip) return t.skip(skip);
    const key = (await (await s!.api('/v1/keys', { method: 'POST', json: { tenant: 'builder' } })).json()).key as string;
    const bad = await s!.api('/v1/templates', { method: 'POST', key, json: { name: 'bad-one', from: { nothing: {} } } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'invalid_argument');
    const res = await s!.api('/v1/templates', { method: 'POST', key, json: { name: 'greeter', from: { template: 'busybox' }, files: [{ path: '/etc/greeting', content: 'hello from a template' }] } });
    assert.equal(res.status, 201, await res.clone().text());
    assert.deepEqual(await res.json(), { name: 'greeter', visibility: 'private', state: 'ready' });
    const sbx = await Sandbox.create({ apiUrl: conn.apiUrl, apiKey: key, template: 'greeter' });
    assert.equal(await sbx.files.read('/etc/greeting'), 'hello from a template');
    await sbx.kill();
    await assert.rejects(Sandbox.create({ ...conn, template: 'greeter' }), NotFoundError, 'another tenant cannot use it');
    const names = (await (await s!.api('/v1/templates')).json()).templates.map((x: { name: string }) => x.name);
    assert.ok(names.includes('busybox') && !names.includes('greeter') && !names.includes('bad-one'));
  });

  test('templates: a build whose start command is snapshotted runs it once before it is kept; one that cannot get ready is refused and the previous build serves on', async (t) => {
    if (skip) return t.skip(skip);
    // runc cannot checkpoint: the build checks in a sandbox of its own, and each create starts the command.
    const recipe = (line: string) => ({
      name: 'started', from: { template: 'busybox' },
      start: { cmd: ['/bin/sh', '-c', line], goldenSnapshot: true }, ready: { cmd: ['test', '-s', '/tmp/version'], timeoutMs: 30_000 },
    });
    const good = await s!.api('/v1/templates', { method: 'POST', json: recipe('echo v1 > /tmp/version; exec sleep 1000') });
    assert.equal(good.status, 201, await good.clone().text());
    const bad = await s!.api('/v1/templates', { method: 'POST', json: recipe('echo "v2 cannot start" >&2; exit 3') });
    assert.equal(bad.status, 400, await bad.clone().text());
    const error = await bad.json() as { code: string; message: string };
    assert.equal(error.code, 'invalid_argument');
    assert.match(error.message, /^this build was not kept \(the template keeps its previous build\): the start command .* exited with code 3 before the ready check .* passed; its last output:\nv2 cannot start$/);
    const listed = (await (await s!.api('/v1/templates')).json()).templates as { name: string; state: string }[];
    assert.equal(listed.find((x) => x.name === 'started')?.state, 'ready');
    const sbx = await Sandbox.create({ ...conn, template: 'started' });
    assert.equal((await sbx.commands.run('cat /tmp/version')).stdout, 'v1\n', 'creates get the build that passed');
    await sbx.kill();
  });
});

describe('uploads through the native API', () => {
  test('stream into the sandbox without a length, and read back the same bytes', async (t) => {
    if (skip) return t.skip(skip);
    const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
    const { createHash } = await import('node:crypto');
    const chunk = Buffer.alloc(1024 * 1024);
    const want = createHash('sha256');
    // 24 MiB in 1 MiB chunks of changing content, sent chunked (no Content-Length).
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 24; i++) {
          const c = Buffer.from(chunk.fill(i));
          want.update(c);
          controller.enqueue(c);
        }
        controller.close();
      },
    });
    const put = await s!.api(`/v1/sandboxes/${sbx.sandboxId}/files?path=${encodeURIComponent('/home/user/big.bin')}`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal((await put.json()).size, 24 * 1024 * 1024);
    const got = Buffer.from(await (await s!.api(`/v1/sandboxes/${sbx.sandboxId}/files?path=${encodeURIComponent('/home/user/big.bin')}`)).arrayBuffer());
    assert.equal(createHash('sha256').update(got).digest('hex'), want.digest('hex'));
    await sbx.kill();
  });
});
