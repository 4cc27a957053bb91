// test-file-guests: typescript native
// createGuestClient: exec as the engine uses it, readiness polling, downloads, and error mapping.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentboxError } from '../../src/api/errors.ts';
import { createGuestClient } from '../../src/envd/client.ts';
import { startGuest, type RunningGuest } from './fixture.ts';
import { waitFor } from '../support/wait.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let g: RunningGuest;
before(async () => { g = await startGuest(); });
after(async () => { await g?.stop(); });

describe('exec', () => {
  test('argv, env, cwd, user, stdin and exit code', async () => {
    const r = await g.client.exec({
      cmd: ['/bin/sh', '-c', 'read line; echo "$line|$FOO|$(pwd)|$(id -un)"; echo warn >&2; exit 4'],
      env: { FOO: 'bar' }, cwd: '/tmp', user: 'nobody', stdin: 'from-stdin\n',
    });
    assert.deepEqual(r, { exitCode: 4, stdout: 'from-stdin|bar|/tmp|nobody\n', stderr: 'warn\n' });
  });

  test('binary stdin and streaming callbacks see every chunk', async () => {
    const chunks: Uint8Array[] = [];
    const r = await g.client.exec({ cmd: ['cat'], stdin: new Uint8Array(100_000).fill(65), onStdout: (c) => chunks.push(c) });
    assert.equal(r.stdout.length, 100_000);
    assert.equal(chunks.reduce((n, c) => n + c.length, 0), 100_000);
  });

  test('timeoutMs kills the process and rejects with deadline_exceeded', async () => {
    const t0 = Date.now();
    await assert.rejects(g.client.exec({ cmd: ['sleep', '20'], timeoutMs: 300 }),
      (e: unknown) => e instanceof AgentboxError && e.code === 'deadline_exceeded' && /raise timeoutMs/.test(e.message));
    assert.ok(Date.now() - t0 < 5000);
    await waitFor("the 'sleep 20' process to leave List", async () => !(await g.client.process.list({})).processes.some((p) => p.config?.args.includes('20')));
  });

  test('an abort signal kills the process', async () => {
    const abort = new AbortController();
    const p = g.client.exec({ cmd: ['sleep', '21'], signal: abort.signal });
    await waitFor("the 'sleep 21' process in List", async () => (await g.client.process.list({})).processes.some((x) => x.config?.args.includes('21')));
    abort.abort();
    await assert.rejects(p, (e: unknown) => e instanceof AgentboxError && e.code === 'deadline_exceeded');
    // Rejected means killed: the process is gone already, not eventually.
    assert.ok(!(await g.client.process.list({})).processes.some((x) => x.config?.args.includes('21')));
  });

  test('an abort before the process has started still kills it once it starts', async () => {
    const abort = new AbortController();
    const p = g.client.exec({ cmd: ['sleep', '22'], signal: abort.signal });
    abort.abort();
    await assert.rejects(p, (e: unknown) => e instanceof AgentboxError && e.code === 'deadline_exceeded');
    assert.ok(!(await g.client.process.list({})).processes.some((x) => x.config?.args.includes('22')));
  });

  test('a signalled process resolves with its status', async () => {
    const r = await g.client.exec({ cmd: ['/bin/sh', '-c', 'kill -KILL $$'] });
    assert.equal(r.exitCode, -1);
    assert.equal(r.status, 'killed');
  });

  test('errors map to AgentboxError codes', async () => {
    await assert.rejects(g.client.exec({ cmd: ['true'], cwd: '/no/such/dir' }), (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument');
    await assert.rejects(g.client.exec({ cmd: ['true'], user: 'ghost' }), (e: unknown) => e instanceof AgentboxError && e.code === 'unauthenticated');
    await assert.rejects(g.client.exec({ cmd: [] }), (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument');
  });
});

describe('files', () => {
  test('a download yields the whole file and its exact size, for a file read in one go and for one streamed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentbox-download-'));
    try {
      for (const size of [1000, 64 * 1024 + 1, 300_000]) {
        const data = Buffer.from('0123456789abcdef'.repeat(size / 16 + 1).slice(0, size));
        writeFileSync(join(dir, 'f'), data);
        const download = await g.client.files.download(join(dir, 'f'), 1 << 20);
        const chunks: Uint8Array[] = [];
        for await (const chunk of download.body) chunks.push(chunk);
        assert.equal(download.size, size);
        assert.equal(Buffer.concat(chunks).equals(data), true, `${size} bytes`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readiness', () => {
  test('waitUntilReady returns at once for a live guest and fails in time for a dead port', async () => {
    await g.client.waitUntilReady({ timeoutMs: 1000 });
    const dead = createGuestClient({ url: 'http://127.0.0.1:1' });
    try {
      assert.equal(await dead.health(), false);
      const t0 = Date.now();
      await assert.rejects(dead.waitUntilReady({ timeoutMs: 300 }), (e: unknown) => e instanceof AgentboxError && e.code === 'unavailable');
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      dead.close();
    }
  });
});
