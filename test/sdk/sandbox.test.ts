// The SDK (imported as the package `agentbox`) against the real server with the FAKE engine
// (test/support/fake-engine.ts). Background commands and PTYs need a real guest daemon: they
// are covered in test/server/e2e.test.ts on the real engine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AuthenticationError, CommandExitError, ConflictError, InvalidArgumentError, NotFoundError, Sandbox, UnavailableError, Volumes } from 'agentbox';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';

let s: FakeServer;
let conn: { apiUrl: string; apiKey: string };

before(async () => {
  s = await startFakeServer();
  conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
});
after(() => s.stop());

test('create, getInfo, setTimeout, pause, resume, kill', async () => {
  const sbx = await Sandbox.create({ ...conn, template: 'busybox', metadata: { who: 'sdk' }, timeoutMs: 30_500 });
  const info = await sbx.getInfo();
  assert.equal(info.timeoutSeconds, 31);
  assert.deepEqual(info.metadata, { who: 'sdk' });
  await sbx.setTimeout(120_000);
  assert.equal((await sbx.getInfo()).timeoutSeconds, 120);
  await sbx.pause();
  assert.equal((await sbx.getInfo()).state, 'paused');
  await assert.rejects(sbx.commands.run('true'), ConflictError);
  const again = await Sandbox.connect(sbx.sandboxId, conn);
  assert.equal((await again.getInfo()).state, 'running', 'connect resumes a paused sandbox');
  await sbx.kill();
  await assert.rejects(sbx.getInfo(), NotFoundError);
  await assert.rejects(Sandbox.connect(sbx.sandboxId, conn), NotFoundError);
});

test('list pages through everything and filters by metadata', async () => {
  const made = await Promise.all(Array.from({ length: 5 }, (_, i) => Sandbox.create({ ...conn, template: 'busybox', metadata: { group: 'g&=1', i: String(i) } })));
  const seen: string[] = [];
  for await (const info of Sandbox.list({ ...conn, metadata: { group: 'g&=1' }, limit: 2 })) seen.push(info.id);
  assert.deepEqual(seen.sort(), made.map((m) => m.sandboxId).sort());
  const one: string[] = [];
  for await (const info of Sandbox.list({ ...conn, metadata: { group: 'g&=1', i: '2' } })) one.push(info.id);
  assert.deepEqual(one, [made[2]!.sandboxId]);
});

test('commands.run: output, callbacks, env, exit errors', async () => {
  const sbx = await Sandbox.create({ ...conn, template: 'busybox', envs: { GREETING: 'hello' } });
  const r = await sbx.commands.run('echo $GREETING $WHO', { envs: { WHO: 'you' } });
  assert.equal(r.stdout, 'hello you\n');
  const chunks: string[] = [];
  const streamed = await sbx.commands.run('echo a; echo b >&2', { onStdout: (d) => chunks.push(`out:${d}`), onStderr: (d) => chunks.push(`err:${d}`) });
  assert.equal(streamed.exitCode, 0);
  assert.deepEqual(chunks.sort(), ['err:b\n', 'out:a\n']);
  const err = await sbx.commands.run('echo bad; exit 7').catch((e: unknown) => e);
  assert.ok(err instanceof CommandExitError);
  assert.equal(err.exitCode, 7);
  assert.equal(err.stdout, 'bad\n');
  const viaStream = await sbx.commands.run('exit 3', { onStdout: () => {} }).catch((e: unknown) => e);
  assert.ok(viaStream instanceof CommandExitError && viaStream.exitCode === 3);
});

test('commands.run: stdin as bytes arrives exactly; the output is still text, whole characters', async () => {
  const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
  const bytes = new Uint8Array([0xff, 0x00, 0xc3, 0xa9, 0x0a]);
  const counted = await sbx.commands.run('od -An -tx1', { stdin: bytes });
  assert.equal(counted.stdout.trim(), 'ff 00 c3 a9 0a');
  // `é` split across the command's two writes is one character to the callback's caller.
  const chunks: string[] = [];
  const split = await sbx.commands.run('head -c 1; sleep 0.2; cat', { stdin: bytes.subarray(2), onStdout: (d) => chunks.push(d) });
  assert.equal(split.stdout, 'é\n');
  assert.equal(chunks.join(''), 'é\n');
  assert.ok(chunks.every((c) => !c.includes('\uFFFD')), JSON.stringify(chunks));
});

test('files: write, read, list, exists, remove, typed errors', async () => {
  const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
  await sbx.files.write('/a/b.txt', 'content');
  await sbx.files.write('/a/bin', new Uint8Array([0, 1, 2, 255]));
  assert.equal(await sbx.files.read('/a/b.txt'), 'content');
  assert.deepEqual([...await sbx.files.read('/a/bin', { format: 'bytes' })], [0, 1, 2, 255]);
  assert.deepEqual((await sbx.files.list('/a')).map((e) => e.name), ['b.txt', 'bin']);
  assert.equal(await sbx.files.exists('/a/b.txt'), true);
  await sbx.files.remove('/a/b.txt');
  assert.equal(await sbx.files.exists('/a/b.txt'), false);
  await sbx.files.remove('/a/b.txt'); // a missing path is no error, as on E2B
  await assert.rejects(sbx.files.read('/a/b.txt'), NotFoundError);
  await assert.rejects(sbx.files.write('../x', 'x'), InvalidArgumentError);
});

test('connection errors are typed', async () => {
  await assert.rejects(Sandbox.create({ apiUrl: s.server.url, apiKey: 'e2b_0000', template: 'busybox' }), AuthenticationError);
  await assert.rejects(Sandbox.create({ ...conn, template: 'nope' }), NotFoundError);
  await assert.rejects(Sandbox.create({ apiUrl: 'http://127.0.0.1:1', apiKey: 'k', template: 'busybox' }), UnavailableError);
});

test('getHost', async () => {
  const sbx = await Sandbox.create({ ...conn, template: 'busybox' });
  assert.equal(sbx.getHost(8080), `${new URL(s.server.url).host}/v1/sandboxes/${sbx.sandboxId}/ports/8080`);
  const routed = await Sandbox.connect(sbx.sandboxId, { ...conn, domain: 'sbx.local' });
  assert.equal(routed.getHost(8080), `8080-${sbx.sandboxId}.sbx.local:${new URL(s.server.url).port}`);
});

test('Volumes: create, list, get, mount at create, delete refused while mounted', async () => {
  const v = await Volumes.create('sdk-data', { ...conn, sizeMiB: 64 });
  assert.equal(v.sizeMiB, 64);
  assert.deepEqual((await Volumes.list(conn)).map((x) => x.name), ['sdk-data']);
  assert.equal((await Volumes.get('sdk-data', conn)).id, v.id);
  const sbx = await Sandbox.create({ ...conn, template: 'busybox', volumes: [{ name: 'sdk-data', path: '/mnt/data' }] });
  await assert.rejects(Volumes.delete('sdk-data', conn), ConflictError);
  await sbx.kill();
  await Volumes.delete('sdk-data', conn);
  await assert.rejects(Volumes.get('sdk-data', conn), NotFoundError);
  await assert.rejects(Volumes.create('bad name', conn), InvalidArgumentError);
});
