// test-file-guests: typescript native
/**
 * execd inside real gVisor sandboxes, reached from the host on port 44772 through the sandbox's
 * network namespace like envd on 49983: the same guest process serves both, with the same
 * token. In `code-interpreter-v1`, execd's code contexts run on the Jupyter kernels of the E2B
 * code interpreter; in `base`, which has none, they answer 501 NOT_SUPPORTED.
 */
// A first build of the templates downloads and installs Debian packages: minutes on a fresh machine.
// test-file-timeout: 40 min
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXECD_PORT } from '../../src/api/opensandbox-execd.ts';
import { startTestEngine, destroyAfter, type TestEngine } from '../engine/fixture.ts';
import { execdFetch, streamEvents, texts, type ExecdCaller } from '../support/execd-client.ts';
import { waitFor } from '../support/wait.ts';

let t: TestEngine;
before(async () => {
  t = await startTestEngine('execd-sandbox');
  await t.templates.ensure('base');
  await t.templates.ensure('code-interpreter-v1');
});
after(() => t.cleanup());

/** execd of a sandbox, at the sandbox's address as the engine reports its guest. */
function execdOf(guest: { url: string; accessToken?: string }): ExecdCaller {
  const u = new URL(guest.url);
  u.port = String(EXECD_PORT);
  return { url: u.origin, token: guest.accessToken };
}

describe('execd in a gVisor sandbox', () => {
  it('serves commands, sessions and files on 44772 beside envd, behind the sandbox token', { timeout: 180_000 }, async (ctx) => {
    const sbx = await t.engine.run({ template: 'base' });
    destroyAfter(ctx, t.engine, sbx.id);
    assert.equal(sbx.runtime, 'gvisor');
    const c = execdOf(sbx.guest);
    assert.equal((await fetch(`${c.url}/ping`)).status, 200);
    assert.equal((await execdFetch({ url: c.url }, '/metrics')).status, 401);

    const run = await streamEvents(c, '/command', { command: 'echo "Hello OpenSandbox E2E"; whoami; exit 4' });
    assert.deepEqual(texts(run.events, 'stdout'), ['Hello OpenSandbox E2E', 'user']);
    assert.equal(run.events.at(-1)!.error!.evalue, '4');

    // The command is a guest process like any other: envd sees it while it runs.
    const bg = await streamEvents(c, '/command', { command: 'sleep 30', background: true });
    const id = bg.events[0]!.text!;
    const listed = await t.engine.exec(sbx.id, { cmd: ['/bin/sh', '-c', 'pgrep -x sleep'] });
    assert.match(listed.stdout, /\d+/);
    await execdFetch(c, `/command?id=${id}`, { method: 'DELETE' });
    await waitFor('the interrupted command to end', async () =>
      ((await (await execdFetch(c, `/command/status/${id}`)).json()) as { running: boolean }).running === false || undefined);

    const { session_id: sid } = await (await execdFetch(c, '/session', { body: {} })).json() as { session_id: string };
    await streamEvents(c, `/session/${sid}/run`, { command: 'cd /tmp && X=42' });
    const s2 = await streamEvents(c, `/session/${sid}/run`, { command: 'echo $PWD $X' });
    assert.deepEqual(texts(s2.events, 'stdout'), ['/tmp 42']);

    const form = new FormData();
    form.append('metadata', new Blob([JSON.stringify({ path: '/home/user/up/a.txt', mode: 600 })]), 'metadata');
    form.append('file', new Blob(['from the host']), 'file');
    assert.equal((await execdFetch(c, '/files/upload', { raw: form })).status, 200);
    const info = await (await execdFetch(c, '/files/info?path=/home/user/up/a.txt')).json() as Record<string, { owner: string; mode: number; size: number }>;
    assert.deepEqual(info['/home/user/up/a.txt'], { ...info['/home/user/up/a.txt'], owner: 'user', mode: 600, size: 13 });
    assert.equal(await (await execdFetch(c, '/files/download?path=/home/user/up/a.txt')).text(), 'from the host');

    const code = await execdFetch(c, '/code/context', { body: { language: 'python' } });
    assert.equal(code.status, 501);
    assert.equal(((await code.json()) as { code: string }).code, 'NOT_SUPPORTED');
  });

  it('runs code in contexts of the code interpreter, with state kept per context', { timeout: 300_000 }, async (ctx) => {
    const sbx = await t.engine.run({ template: 'code-interpreter-v1' });
    destroyAfter(ctx, t.engine, sbx.id);
    const c = execdOf(sbx.guest);
    const created = await execdFetch(c, '/code/context', { body: { language: 'python' } });
    assert.equal(created.status, 200);
    const context = await created.json() as { id: string; language: string };
    assert.equal(context.language, 'python');
    const first = await streamEvents(c, '/code', { context: { id: context.id }, code: 'x = 6\nprint("x set")' });
    assert.equal(first.events[0]!.type, 'init');
    assert.deepEqual(texts(first.events, 'stdout'), ['x set\n']);
    assert.equal(first.events.at(-1)!.type, 'execution_complete');
    const second = await streamEvents(c, '/code', { context: { id: context.id }, code: 'x * 7' });
    const result = second.events.find((e) => e.type === 'result');
    assert.equal(result?.results?.text, '42');
    assert.ok(second.events.some((e) => e.type === 'execution_count' && typeof e.execution_count === 'number'));
    const failing = await streamEvents(c, '/code', { context: { id: context.id }, code: '1/0' });
    assert.equal(failing.events.at(-1)!.type, 'error');
    assert.equal(failing.events.at(-1)!.error!.ename, 'ZeroDivisionError');
    assert.equal(failing.events.filter((e) => e.type === 'execution_complete').length, 0);

    const listed = await (await execdFetch(c, '/code/contexts?language=python')).json() as { id: string }[];
    assert.ok(listed.some((x) => x.id === context.id));
    assert.deepEqual(await (await execdFetch(c, `/code/contexts/${context.id}`)).json(), { id: context.id, language: 'python' });
    assert.equal((await execdFetch(c, `/code/contexts/${context.id}`, { method: 'DELETE' })).status, 200);
    const gone = await execdFetch(c, `/code/contexts/${context.id}`);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { code: string }).code, 'CONTEXT_NOT_FOUND');
    // Without a context the code is a shell line, as upstream.
    const shell = await streamEvents(c, '/code', { code: 'echo from shell' });
    assert.deepEqual(texts(shell.events, 'stdout'), ['from shell']);
    const bad = await execdFetch(c, '/code/context', { body: { language: 'cobol' } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /cobol/);
  });
});
