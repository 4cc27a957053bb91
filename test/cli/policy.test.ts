// `agentbox policy` and `agentbox tenant limits` as a real subprocess against the real server
// over the FAKE engine: an admin sets limits by name=value, a tenant's create past them fails
// with the server's quota_exceeded message, and overrides are removed again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';

const bin = new URL('../../bin/agentbox.mjs', import.meta.url).pathname;
let s: FakeServer;
let dir: string;

before(async () => {
  s = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'agentbox-cli-policy-'));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], key = s.server.adminKey): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: key, AGENTBOX_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`agentbox ${args.join(' ')} took over 30 s`)); }, 30_000);
    child.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

test('tenant limits and policy set, shown, enforced and removed', { timeout: 120_000 }, async () => {
  const key = (await cli(['keys', 'create', '--tenant', 'acme'])).stdout.trim();
  const set = await cli(['tenant', 'limits', 'acme', 'runningSandboxes=1', 'runtimes=gvisor,runc']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /runningSandboxes\s+1\s+\(in use: 0\)/);
  assert.match(set.stdout, /runtimes\s+gvisor,runc/);
  assert.equal((await cli(['create', '--template', 'busybox', '--runtime', 'runc'], key)).code, 0);
  const over = await cli(['create', '--template', 'busybox'], key);
  assert.equal(over.code, 1);
  assert.match(over.stderr, /quota_exceeded: .*runningSandboxes is 1 in use \+ 1 requested, over the maximum of 1/);
  const bad = await cli(['tenant', 'limits', 'acme', 'runningSandboxes=many']);
  assert.equal(bad.code, 2);
  const json = JSON.parse((await cli(['tenant', 'limits', 'acme', 'runningSandboxes=', '--json'])).stdout);
  assert.deepEqual(json.overrides, { runtimes: ['gvisor', 'runc'] });
  assert.equal((await cli(['tenant', 'limits', 'acme', '--reset'])).code, 0);
  assert.deepEqual(JSON.parse((await cli(['tenant', 'limits', 'acme', '--json'])).stdout).overrides, {});
  assert.equal((await cli(['policy', 'set', 'pools=3'])).code, 0);
  const shown = await cli(['policy']);
  assert.match(shown.stdout, /pools\s+3/);
  assert.equal(JSON.parse((await cli(['policy', '--json'])).stdout).defaults.pools, 3);
  const denied = await cli(['policy'], key);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /permission_denied/);
});
