// The agent-sandbox runtime protocol served by the guest (no Kubernetes needed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgentSandboxRuntime, type RunningAgentSandboxRuntime } from '../../src/guest/agent-sandbox-runtime/index.ts';
import { shlexSplit } from '../../src/guest/agent-sandbox-runtime/shlex.ts';

describe('agent-sandbox runtime protocol', () => {
  let rt: RunningAgentSandboxRuntime;
  let base: string;
  let url: string;
  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'rt-'));
    rt = await startAgentSandboxRuntime({ port: 0, host: '127.0.0.1', baseDir: base });
    url = `http://127.0.0.1:${rt.port}`;
  });
  after(() => rt?.close());

  const execute = async (command: string, extra: Record<string, unknown> = {}) =>
    (await fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command, ...extra }) })).json() as Promise<Record<string, unknown>>;

  it('answers the readiness probe', async () => {
    assert.deepEqual(await (await fetch(`${url}/`)).json(), { status: 'ok', message: 'Sandbox Runtime is active.' });
  });

  it('executes without a shell, in the base directory', async () => {
    assert.deepEqual(await execute(`echo 'a  b' "c"`), { stdout: 'a  b c\n', stderr: '', exit_code: 0 });
    assert.deepEqual(await execute('pwd'), { stdout: `${base}\n`, stderr: '', exit_code: 0 });
    assert.equal((await execute('echo $HOME')).stdout, '$HOME\n', 'no shell expansion');
    assert.equal((await execute('sh -c "exit 3"')).exit_code, 3);
    const missing = await execute('no-such-binary-xyz');
    assert.equal(missing.exit_code, 1);
    const slow = await execute('sleep 5', { timeout_seconds: 0.3 });
    assert.equal(slow.timed_out, true);
  });

  it('uploads, downloads, lists and checks existence, confined to the base directory', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('hello')]), 'dir/sub/hello.txt');
    const up = await fetch(`${url}/upload`, { method: 'POST', body: form });
    assert.equal(up.status, 200);
    assert.equal(readFileSync(join(base, 'dir/sub/hello.txt'), 'utf8'), 'hello');
    const down = await fetch(`${url}/download/${encodeURIComponent('dir/sub/hello.txt')}`);
    assert.equal(down.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await down.text(), 'hello');
    const nf = await fetch(`${url}/download/nope.txt`);
    assert.equal(nf.status, 404);
    assert.deepEqual(await nf.json(), { message: 'File not found' });
    const list = await (await fetch(`${url}/list/dir%2Fsub`)).json() as { name: string; size: number; type: string; mod_time: number }[];
    assert.deepEqual(list.map((e) => [e.name, e.size, e.type]), [['hello.txt', 5, 'file']]);
    assert.equal(typeof list[0]!.mod_time, 'number');
    assert.deepEqual(await (await fetch(`${url}/exists/dir%2Fsub%2Fhello.txt`)).json(), { path: 'dir/sub/hello.txt', exists: true });
    assert.deepEqual(await (await fetch(`${url}/exists/missing`)).json(), { path: 'missing', exists: false });

    const evil = new FormData();
    evil.append('file', new Blob([Buffer.from('x')]), '../escape.txt');
    assert.equal((await fetch(`${url}/upload`, { method: 'POST', body: evil })).status, 403);
    mkdirSync(join(base, 'links'));
    writeFileSync(join(tmpdir(), 'rt-outside.txt'), 'secret');
    symlinkSync(join(tmpdir(), 'rt-outside.txt'), join(base, 'links/out'));
    assert.equal((await fetch(`${url}/download/links%2Fout`)).status, 404, 'symlinks out of the base are not followed');
    assert.equal((await fetch(`${url}/download/..%2F..%2Fetc%2Fpasswd`)).status, 404);
  });

  it('splits commands like Python shlex', () => {
    assert.deepEqual(shlexSplit(`a "b c" 'd e' f\\ g "h\\"i"`), ['a', 'b c', 'd e', 'f g', 'h"i']);
    assert.deepEqual(shlexSplit('  '), []);
    assert.throws(() => shlexSplit('"open'));
  });
});
