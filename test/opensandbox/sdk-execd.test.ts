// test-file-timeout: 30 min
// Commands and files of the real OpenSandbox SDKs, unchanged, against the real server over
// gVisor: npm `@alibaba-group/opensandbox` (both installed releases) in this process and PyPI
// `opensandbox` (sdk-execd.py) in child processes. Unlike lifecycle.test.ts, every create keeps
// the SDK's health check on: it waits for execd's /ping on port 44772, reached through the
// endpoint the façade names (docs/opensandbox.md, "The endpoint contract").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { PtyClient } from '../support/execd-pty-client.ts';
import { waitFor } from '../support/wait.ts';
import { importJsSdk, openSandboxSdks, type OpenSandboxSdks } from './fixture.ts';

const sdks = openSandboxSdks();
const skip = typeof sdks === 'string' ? sdks : false;
const installed = sdks as OpenSandboxSdks;
let srv: RealServer | undefined;
let skipServer: string | false = false;

before(async () => {
  if (skip) return;
  const s = await startRealServer('execd-sdk', { runtime: 'gvisor' });
  if (typeof s === 'string') { skipServer = s; return; }
  srv = s;
  await srv.created.templates.ensure('base');
});
after(async () => { await srv?.stop(); });

const lines = (logs: { text: string }[]) => logs.map((l) => l.text);

describe('OpenSandbox SDKs through execd', { skip }, () => {
  for (const v of skip ? [] : installed.js) {
    test(`npm @alibaba-group/opensandbox ${v.version}: commands, sessions and files`, async (t) => {
      if (skipServer) return t.skip(skipServer);
      const os = await importJsSdk(v.dir);
      const connectionConfig = { domain: `${srv!.server.url}/opensandbox`, apiKey: srv!.server.adminKey };
      const sbx = await os.Sandbox.create({ connectionConfig, image: 'base', timeoutSeconds: 600 });
      try {
        const r = await sbx.commands.run('echo "Hello OpenSandbox"; echo err >&2');
        assert.deepEqual(lines(r.logs.stdout), ['Hello OpenSandbox']);
        assert.deepEqual(lines(r.logs.stderr), ['err']);
        assert.equal((await sbx.commands.run('exit 3')).exitCode, 3);
        const cwd = await sbx.commands.run('pwd; echo $FOO', { workingDirectory: '/tmp', envs: { FOO: 'bar' } });
        assert.deepEqual(lines(cwd.logs.stdout), ['/tmp', 'bar']);

        const bg = await sbx.commands.run('echo a; echo b', { background: true });
        await waitFor('the background command to end', async () => !(await sbx.commands.getCommandStatus(bg.id)).running, 30_000, 100);
        assert.match((await sbx.commands.getBackgroundCommandLogs(bg.id)).content, /a\nb/);
        const long = await sbx.commands.run('sleep 60', { background: true });
        await sbx.commands.interrupt(long.id);
        await waitFor('the interrupted command to end', async () => !(await sbx.commands.getCommandStatus(long.id)).running, 30_000, 100);

        if (sbx.commands.createSession) { // sessions arrived in a later release than the oldest tested
          const sid = await sbx.commands.createSession({ workingDirectory: '/tmp' });
          const sessionId = typeof sid === 'string' ? sid : sid.sessionId ?? sid.id;
          await sbx.commands.runInSession(sessionId, 'export K=v; cd /');
          assert.deepEqual(lines((await sbx.commands.runInSession(sessionId, 'echo $K $PWD')).logs.stdout), ['v /']);
          await sbx.commands.deleteSession(sessionId);
        }

        await sbx.files.writeFiles([{ path: '/home/user/sdk/a.txt', data: 'hello files\nline2\n', mode: 644 }]);
        assert.equal(await sbx.files.readFile('/home/user/sdk/a.txt'), 'hello files\nline2\n');
        const found = await sbx.files.search({ path: '/home/user/sdk', pattern: '*.txt' });
        assert.deepEqual(found.map((f: { path: string }) => f.path), ['/home/user/sdk/a.txt']);
        await sbx.files.replaceContents([{ path: '/home/user/sdk/a.txt', oldContent: 'hello', newContent: 'bye' }]);
        await sbx.files.createDirectories([{ path: '/home/user/sdk/d/e', mode: 755 }]);
        await sbx.files.moveFiles([{ src: '/home/user/sdk/a.txt', dest: '/home/user/sdk/d/e/b.txt' }]);
        await sbx.files.setPermissions([{ path: '/home/user/sdk/d/e/b.txt', mode: 600 }]);
        assert.equal(await sbx.files.readFile('/home/user/sdk/d/e/b.txt'), 'bye files\nline2\n');
        assert.deepEqual(lines((await sbx.commands.run('stat -c %a /home/user/sdk/d/e/b.txt')).logs.stdout), ['600']);
        await sbx.files.deleteDirectories(['/home/user/sdk/d']);
        assert.deepEqual(lines((await sbx.commands.run('test -e /home/user/sdk/d && echo there || echo gone')).logs.stdout), ['gone']);
        await assert.rejects(sbx.files.readFile('/home/user/sdk/missing'), 'reading a missing file fails');

        const m = await sbx.getMetrics();
        assert.ok(m.cpuCount > 0 && m.memoryTotalMiB > 0, JSON.stringify(m));
      } finally {
        await sbx.kill();
      }
    });
  }

  // No released SDK has a PTY client yet (npm 0.1.11 and PyPI 1.1.1 have none), so this drives
  // execd's PTY WebSocket the way one would: through the endpoint the SDK names for port 44772,
  // with the headers it names, so the WebSocket crosses the server's port proxy.
  test('execd\'s PTY WebSocket through the 44772 endpoint an SDK names', async (t) => {
    if (skip || skipServer) return t.skip(String(skip || skipServer));
    const os = await importJsSdk(installed.js.at(-1)!.dir);
    const connectionConfig = { domain: `${srv!.server.url}/opensandbox`, apiKey: srv!.server.adminKey };
    const sbx = await os.Sandbox.create({ connectionConfig, image: 'base', timeoutSeconds: 600 });
    try {
      const ep = (await sbx.getEndpoint(44772)) as { endpoint: string; headers: Record<string, string> };
      const created = await fetch(`http://${ep.endpoint}/pty`, { method: 'POST', headers: { ...ep.headers, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(created.status, 200);
      const { session_id: id } = (await created.json()) as { session_id: string };
      const term = await PtyClient.open(`ws://${ep.endpoint}/pty/${id}/ws`, ep.headers);
      assert.equal((await term.frame('connected')).pty, true);
      term.type('test -t 0 && echo "on-a-tty $(whoami)"\n');
      await term.output(/on-a-tty user/);
      term.close();
      await term.closedWith();
      // The shell may print its prompt after the line matched: the replay holds at least what
      // the first connection saw, from the first byte on.
      const seen = term.stdout;
      const again = await PtyClient.open(`ws://${ep.endpoint}/pty/${id}/ws?since=0`, ep.headers);
      const replay = await waitFor('the replay frame', () => again.replays[0]);
      assert.equal(replay.offset, 0);
      assert.ok(replay.data.startsWith(seen), `the replay ${JSON.stringify(replay.data)} starts with what was seen: ${JSON.stringify(seen)}`);
      again.type('exit 9\n');
      assert.equal((await again.frame('exit')).exit_code, 9);
    } finally {
      await sbx.kill();
    }
  });

  for (const py of skip ? [] : installed.python) {
    test(`PyPI opensandbox ${py.version}: commands, sessions and files`, async (t) => {
      if (skipServer) return t.skip(skipServer);
      const run = promisify(execFile)(py.python, [join(import.meta.dirname, 'sdk-execd.py')], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OPEN_SANDBOX_DOMAIN: `${srv!.server.url}/opensandbox`, OPEN_SANDBOX_API_KEY: srv!.server.adminKey },
        encoding: 'utf8', timeout: 600_000,
      });
      await run.catch((err: { stderr?: string }) => assert.fail(`sdk-execd.py failed:\n${String(err.stderr).slice(-4000)}`));
    });
  }
});
