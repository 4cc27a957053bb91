// The OpenSandbox lifecycle API driven by the real OpenSandbox SDKs, unchanged: npm
// `@alibaba-group/opensandbox` (oldest and latest release) in this process and PyPI `opensandbox`
// (newest 0.1.x and 1.1.x, scenarios.py) in child processes, against the real server (SQLite,
// HTTP, gateway, backend) over the fake engine: lifecycle semantics need no guest.
//
// The SDKs' create waits for execd's /ping unless told not to; execd (port 44772) is not part of
// the lifecycle façade, so every create here passes `skipHealthCheck` / `skip_health_check`. When
// execd is in the guest, command and file scenarios belong in a sibling file over the real
// engine, with the same `connectionConfig` (see `connection()` below) and the health check on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEchoApp, type EchoApp } from '../support/echo-app.ts';
import { wsRoundTrip } from '../support/ws.ts';
import { fetchAny, startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { waitFor } from '../support/wait.ts';
import { importJsSdk, openSandboxSdks, sdkProblems, type OpenSandboxSdks } from './fixture.ts';

const sdks = openSandboxSdks();
const skip = typeof sdks === 'string' ? sdks : false;
const installed = sdks as OpenSandboxSdks;

let srv: FakeServer;
let echo: EchoApp;
const domain = () => `${srv.server.url}/opensandbox`;

before(async () => {
  if (skip) return;
  srv = await startFakeServer();
  // The "app inside the sandbox": the fake engine's sandboxes answer on 127.0.0.1.
  echo = await startEchoApp('apiKeyHeader', 'open-sandbox-api-key');
  // A warm pool of `busybox` for the poolRef scenarios (a pool is named by its template).
  assert.equal((await srv.api('/v1/pools/busybox', { method: 'PUT', json: { size: 1 } })).status, 200);
});

after(async () => {
  echo?.close();
  await srv?.stop();
});

const poolReady = () => waitFor('a warm busybox sandbox', async () => (await (await srv.api('/v1/pools/busybox')).json()).ready >= 1);

describe('OpenSandbox SDK installs', { skip }, () => {
  test('the claimed SDK versions are installed', () => {
    assert.deepEqual(sdkProblems(installed), []);
  });
});

describe('OpenSandbox wire rules', { skip }, () => {
  test('the key header is OPEN-SANDBOX-API-KEY with OpenSandbox\'s 401 codes, and X-Request-ID is echoed', async () => {
    const missing = await fetchAny(`${domain()}/v1/sandboxes`);
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).code, 'MISSING_API_KEY');
    const wrong = await fetchAny(`${domain()}/v1/sandboxes`, { headers: { 'OPEN-SANDBOX-API-KEY': 'e2b_0000000000000000000000000000000000000000', 'X-Request-ID': 'req-42' } });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).code, 'INVALID_API_KEY');
    assert.equal(wrong.headers.get('x-request-id'), 'req-42');
    const ok = await fetchAny(`${domain()}/sandboxes?pageSize=5`, { headers: { 'OPEN-SANDBOX-API-KEY': srv.server.adminKey } });
    assert.equal(ok.status, 200, 'routes are served without /v1 too');
    assert.match(ok.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
  });

  test('bad input gets 400 SANDBOX::INVALID_PARAMETER naming what to change', async () => {
    const post = (body: unknown) => fetchAny(`${domain()}/v1/sandboxes`, { method: 'POST', headers: { 'OPEN-SANDBOX-API-KEY': srv.server.adminKey, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    for (const [body, re] of [
      [{ image: { uri: 'base' }, resourceLimits: {} }, /entrypoint is required/],
      [{ image: { uri: 'base' }, entrypoint: ['x'] }, /resourceLimits is required/],
      [{ entrypoint: ['x'], resourceLimits: {} }, /exactly one of image and snapshotId/],
      [{ image: { uri: 'base' }, entrypoint: ['x'], resourceLimits: { memory: 'lots' } }, /resourceLimits\.memory 'lots'/],
      [{ image: { uri: 'base' }, entrypoint: ['x'], resourceLimits: {}, metadata: { 'opensandbox.io/x': '1' } }, /reserved/],
      [{ image: { uri: 'base' }, entrypoint: ['x'], resourceLimits: {}, timeout: 10 }, /timeout/],
      [{ extensions: { poolRef: 'busybox' }, networkPolicy: { defaultAction: 'deny' } }, /networkPolicy cannot be combined with extensions\.poolRef/],
    ] as const) {
      const r = await post(body);
      const b = await r.json();
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(b.code, 'SANDBOX::INVALID_PARAMETER');
      assert.match(b.message, re);
    }
  });
});

for (const sdk of typeof sdks === 'string' ? [] : installed.js) {
  describe(`npm @alibaba-group/opensandbox@${sdk.version}`, () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let os: any;
    const run = `js-${sdk.version}`;
    const connection = () => ({ domain: domain(), apiKey: srv.server.adminKey });
    before(async () => { os = await importJsSdk(sdk.dir); });

    /** The SandboxApiException a call fails with, checked for its status and OpenSandbox code. */
    const refused = async (p: Promise<unknown>, status: number, code: string) => {
      const err = await p.then(() => assert.fail('expected the call to fail'), (e: unknown) => e);
      assert.ok(err instanceof os.SandboxApiException, `expected SandboxApiException, got ${String(err)}`);
      const e = err as { statusCode: number; error: { code: string; message: string } };
      assert.equal(e.statusCode, status);
      assert.equal(e.error.code, code);
      return e;
    };

    test('create from an image, get, endpoints, renew, pause/resume, kill', async () => {
      const t0 = Date.now();
      const sbx = await os.Sandbox.create({
        connectionConfig: connection(), image: 'base', skipHealthCheck: true, timeoutSeconds: 600,
        metadata: { run, role: 'main' }, env: { GREETING: 'hi' }, resource: { cpu: '1', memory: '512Mi' },
      });
      const info = await sbx.getInfo();
      assert.equal(info.id, sbx.id);
      assert.equal(info.status.state, 'Running');
      assert.deepEqual(info.metadata, { run, role: 'main' }, 'the façade\'s own records do not show in metadata');
      assert.deepEqual(info.entrypoint, ['tail', '-f', '/dev/null']);
      assert.equal(info.image?.uri ?? info.image, 'base');
      assert.ok(Math.abs(info.expiresAt.getTime() - (t0 + 600_000)) < 30_000, `expiresAt ${info.expiresAt.toISOString()} is about 600 s away`);
      // The resources asked for are what the sandbox got (native view of the same sandbox).
      const native = await (await srv.api(`/v1/sandboxes/${sbx.id}`)).json();
      assert.equal(native.cpu, 1);
      assert.equal(native.memoryMiB, 512);

      // Endpoints: any port, through the server, the key in the headers; the proxy reaches the port and strips the key.
      const ep = await sbx.getEndpoint(echo.port);
      assert.equal(ep.endpoint, `${new URL(srv.server.url).host}/opensandbox/sandboxes/${sbx.id}/proxy/${echo.port}`);
      const execd = await sbx.getEndpoint(44772);
      assert.match(execd.endpoint, /\/proxy\/44772$/);
      const hello = await fetchAny(`http://${ep.endpoint}/hello?x=1`, { headers: ep.headers });
      assert.equal(hello.status, 200);
      assert.deepEqual(await hello.json(), { method: 'GET', url: '/hello?x=1', body: '', apiKeyHeader: null });
      const anonymous = await fetchAny(`http://${ep.endpoint}/hello`);
      assert.equal(anonymous.status, 401, 'a sandbox port needs an agentbox key');
      assert.equal(await wsRoundTrip(`ws://${ep.endpoint}/socket`, ep.headers, 'ping'), 'echo:ping', 'WebSocket through the same endpoint (execd\'s PTY uses one)');

      // Renew: the SDK sends now + seconds; the answer and the sandbox agree.
      const renewed = await sbx.renew(1200);
      assert.ok(Math.abs(new Date(renewed.expiresAt).getTime() - (Date.now() + 1_200_000)) < 30_000);
      assert.equal((await sbx.getInfo()).expiresAt.getTime(), new Date(renewed.expiresAt).getTime());

      // Pause / resume through the lifecycle-only manager (resume then needs no execd).
      const manager = os.SandboxManager.create({ connectionConfig: connection() });
      await sbx.pause();
      assert.equal((await sbx.getInfo()).status.state, 'Paused');
      await refused(sbx.pause(), 409, 'DOCKER::SANDBOX_NOT_RUNNING');
      await manager.resumeSandbox(sbx.id);
      assert.equal((await sbx.getInfo()).status.state, 'Running');
      await refused(manager.resumeSandbox(sbx.id), 409, 'DOCKER::SANDBOX_NOT_PAUSED');

      await sbx.kill();
      await refused(manager.getSandboxInfo(sbx.id), 404, 'DOCKER::SANDBOX_NOT_FOUND');
      await manager.close();
    });

    test('an entrypoint runs in the sandbox with the create\'s env', async () => {
      const sbx = await os.Sandbox.create({
        connectionConfig: connection(), image: 'base', skipHealthCheck: true,
        entrypoint: ['/bin/sh', '-c', 'echo "$GREETING" > entrypoint.out'], env: { GREETING: `hello from ${run}` },
      });
      const out = join(srv.engine.dir(sbx.id), 'entrypoint.out');
      await waitFor('the entrypoint\'s output', () => existsSync(out));
      assert.deepEqual((await sbx.getInfo()).entrypoint, ['/bin/sh', '-c', 'echo "$GREETING" > entrypoint.out']);
      await sbx.kill();
    });

    test('an unknown image is OpenSandbox\'s error at once, and leaves nothing behind', async () => {
      const before = (await (await srv.api('/v1/sandboxes')).json()).sandboxes.length;
      const err = await refused(os.Sandbox.create({ connectionConfig: connection(), image: 'python:3.11', skipHealthCheck: true }), 400, 'DOCKER::SANDBOX_IMAGE_PULL_FAILED');
      assert.match(err.error.message, /template 'python-3.11'/);
      assert.equal((await (await srv.api('/v1/sandboxes')).json()).sandboxes.length, before);
    });

    test('extensions.poolRef allocates a warm member of that pool; an unknown pool is 404', async () => {
      await poolReady();
      const sbx = await os.Sandbox.create({ connectionConfig: connection(), skipHealthCheck: true, image: 'ignored-with-poolref', extensions: { poolRef: 'busybox' }, metadata: { run } });
      const info = await sbx.getInfo();
      assert.equal(info.status.state, 'Running');
      const native = await (await srv.api(`/v1/sandboxes/${sbx.id}`)).json();
      assert.equal(native.fromPool, true, 'claimed from the warm pool, not started cold');
      assert.equal(native.template, 'busybox');
      const raw = await (await fetchAny(`${domain()}/v1/sandboxes/${sbx.id}`, { headers: { 'OPEN-SANDBOX-API-KEY': srv.server.adminKey } })).json();
      assert.deepEqual(raw.allocation, { mode: 'pool', poolRef: 'busybox', state: 'allocated' });
      await refused(os.Sandbox.create({ connectionConfig: connection(), skipHealthCheck: true, image: 'base', extensions: { poolRef: 'nope' } }), 404, 'KUBERNETES::POOL_NOT_FOUND');
      await sbx.kill();
    });

    test('the egress API on 18080 reads and changes the sandbox\'s egress rules', async () => {
      const sbx = await os.Sandbox.create({
        connectionConfig: connection(), image: 'base', skipHealthCheck: true,
        networkPolicy: { defaultAction: 'deny', egress: [{ action: 'allow', target: 'pypi.org' }] },
      });
      // The rules the engine was given (its firewall enforces them; the fake engine records them).
      const native = async () => srv.engine.get(sbx.id).egress;
      assert.deepEqual(await native(), { defaultAction: 'deny', allow: ['pypi.org'], deny: [] }, 'the create\'s policy is the sandbox\'s rules');
      assert.deepEqual(await sbx.getEgressPolicy(), { defaultAction: 'deny', egress: [{ action: 'allow', target: 'pypi.org' }] });
      await sbx.patchEgressRules([{ action: 'allow', target: 'github.com' }, { action: 'deny', target: 'pypi.org' }]);
      assert.deepEqual(await native(), { defaultAction: 'deny', allow: ['github.com'], deny: ['pypi.org'] });
      if (typeof sbx.deleteEgressRules === 'function') {
        await sbx.deleteEgressRules(['pypi.org']);
        assert.deepEqual(await native(), { defaultAction: 'deny', allow: ['github.com'], deny: [] });
      }
      await sbx.kill();
    });

    test('list filters by state and metadata and pages', async () => {
      const mk = (i: number) => os.Sandbox.create({ connectionConfig: connection(), image: 'base', skipHealthCheck: true, metadata: { run, list: 'yes', i: String(i) } });
      const made = [await mk(0), await mk(1), await mk(2)];
      await made[2].pause();
      const manager = os.SandboxManager.create({ connectionConfig: connection() });
      const running1 = await manager.listSandboxInfos({ states: ['Running'], metadata: { run, list: 'yes' }, page: 1, pageSize: 1 });
      assert.equal(running1.items.length, 1);
      assert.deepEqual(running1.pagination, { page: 1, pageSize: 1, totalItems: 2, totalPages: 2, hasNextPage: true });
      const running2 = await manager.listSandboxInfos({ states: ['Running'], metadata: { run, list: 'yes' }, page: 2, pageSize: 1 });
      assert.equal(running2.pagination.hasNextPage, false);
      assert.deepEqual(new Set([running1.items[0].id, running2.items[0].id]), new Set([made[0].id, made[1].id]));
      const paused = await manager.listSandboxInfos({ states: ['Paused'], metadata: { run } });
      assert.deepEqual(paused.items.map((x: { id: string }) => x.id), [made[2].id]);
      const both = await manager.listSandboxInfos({ states: ['Running', 'Paused'], metadata: { run, i: '1' } });
      assert.deepEqual(both.items.map((x: { id: string }) => x.id), [made[1].id]);
      const none = await manager.listSandboxInfos({ states: ['Terminated'], metadata: { run } });
      assert.equal(none.pagination.totalItems, 0);
      for (const s of made) await s.kill();
      await manager.close();
    });
  });
}

describe('PyPI opensandbox', { skip }, () => {
  for (const py of typeof sdks === 'string' ? [] : installed.python) {
    test(`opensandbox==${py.version}: create, get, list, endpoints, renew, pause/resume, poolRef, unknown image, kill`, async () => {
      await poolReady();
      const child = spawn(py.python, [join(import.meta.dirname, 'scenarios.py')], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OPEN_SANDBOX_DOMAIN: domain(), OPEN_SANDBOX_API_KEY: srv.server.adminKey, ECHO_PORT: String(echo.port), RUN: `py-${py.version}` },
      });
      let out = '', err = '';
      child.stdout.on('data', (c: Buffer) => { out += c; });
      child.stderr.on('data', (c: Buffer) => { err += c; });
      const code = await new Promise<number | null>((r) => child.on('close', r));
      assert.equal(code, 0, `scenarios.py failed:\n${err.slice(-4000)}`);
      const results = out.trim().split('\n').map((l) => JSON.parse(l) as { name: string; ok: boolean; error?: string });
      assert.deepEqual(results.filter((r) => !r.ok), []);
      assert.deepEqual(results.map((r) => r.name), ['create_get', 'endpoint', 'renew', 'pause_resume', 'list', 'pool_ref', 'unknown_image', 'kill']);
    });
  }
});
