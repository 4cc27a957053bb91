// E2B template builds (issue 15): the official SDKs' `Template` builder, unchanged, builds
// templates on a real agentbox server over the real engine (gVisor; each build's steps run in a
// sandbox), and sandboxes start from them. Scenario scripts: template-build-scenarios.mjs (npm
// `e2b`: the latest, and 2.7, the oldest claimed line with `Template`; 2.0.x reports a skip that
// names 2.7) and template_build_scenarios.py (PyPI `e2b`, sync). Both callers are tenants (not
// admins), so their templates are private, and a second tenant checks isolation.
// test-file-timeout: 45 min
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { exportTemplate } from '../../src/engine/images/oci-export.ts';
import { Sandbox } from '../../src/sdk/index.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { waitFor } from '../support/wait.ts';
import { reportScenarios as report, runScenarios, tenantKey, scenarioFile, sdkManifest, type SdkManifest } from './fixture.ts';

const SCRIPT_TIMEOUT_MS = 900_000;
/** In template names and RUN lines, so no run is served from an earlier run's build cache (its RUN output would be missing from the logs). */
const RUN = Date.now().toString(36);
/** Shell for 8 random bytes in hex: each run of a command that has it prints a token of its own. */
const RANDOM_TOKEN = "$(head -c8 /dev/urandom | od -An -tx1 | tr -d ' \\n')";
const manifest = sdkManifest();
const sdks = manifest as SdkManifest;

describe('E2B Template builds through E2B_API_URL', () => {
  let s: RealServer | undefined;
  let skip: string | false = typeof manifest === 'string' ? manifest : false;
  let env: Record<string, string> = {};
  let dir = '';
  before(async () => {
    if (skip) return;
    const r = await startRealServer('e2b-tbuild', { runtime: 'gvisor' });
    if (typeof r === 'string') { skip = r; return; }
    s = r;
    // Built here, not inside an SDK call: a first build (mmdebstrap) outlasts the SDKs' request timeouts.
    for (const template of ['base', 'busybox']) await s.created.templates.ensure(template);
    const builder = await tenantKey(s, 'builder');
    // An image from outside, as a user brings one: busybox exported as OCI, made a `docker save`
    // archive by skopeo, uploaded by the tenant through the native API (POST /v1/templates/{name}/oci).
    dir = mkdtempSync(join(tmpdir(), 'agentbox-tbuild-'));
    await exportTemplate(s.created.templates, 'busybox', { out: join(dir, 'oci.tar') });
    await runCommand('skopeo', ['copy', '--quiet', `oci-archive:${join(dir, 'oci.tar')}`, `docker-archive:${join(dir, 'upload.tar')}:tb/imported:v1`]);
    const imported = await s.api(`/v1/templates/imported-${RUN}/oci`, { method: 'POST', key: builder, body: readFileSync(join(dir, 'upload.tar')) });
    assert.equal(imported.status, 201, await imported.text());
    env = {
      TB_IMPORTED: `imported-${RUN}`,
      E2B_API_KEY: builder, E2B_OTHER_API_KEY: await tenantKey(s, 'neighbour'),
      E2B_API_URL: `${s.server.url}/e2b`, E2B_SANDBOX_URL: `${s.server.url}/e2b/sandbox`,
    };
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A call to the E2B API (or an upload URL it gave) as plain HTTP, with the builder's key unless told. */
  const call = async (path: string, init: { method?: string; json?: unknown; key?: string; body?: Uint8Array } = {}) => {
    const res = await fetch(path.startsWith('http') ? path : `${env.E2B_API_URL}${path}`, {
      method: init.method ?? 'GET', headers: { 'X-API-Key': init.key ?? env.E2B_API_KEY!, ...(init.json ? { 'Content-Type': 'application/json' } : {}) },
      ...(init.json ? { body: JSON.stringify(init.json) } : init.body ? { body: init.body } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) as { code?: number; message?: string } & Record<string, unknown> : {} };
  };

  /** Builds `name` from E2B build instructions through the template API (plain HTTP); the build's last status. */
  const buildTemplate = async (name: string, instructions: Record<string, unknown>) => {
    const requested = await call('/v3/templates', { method: 'POST', json: { name, cpuCount: 1, memoryMB: 512 } });
    assert.equal(requested.status, 202, JSON.stringify(requested.body));
    const { templateID, buildID } = requested.body as { templateID: string; buildID: string };
    const build = await call(`/v2/templates/${templateID}/builds/${buildID}`, { method: 'POST', json: instructions });
    assert.equal(build.status, 202, JSON.stringify(build.body));
    let last: { status?: string; logs?: string[]; reason?: { message?: string } } = {};
    await waitFor('the build to end', async () => {
      last = (await call(`/templates/${templateID}/builds/${buildID}/status`)).body as typeof last;
      return last.status === 'ready' || last.status === 'error';
    }, 300_000, 500);
    return last;
  };
  /** Runs `cmd` in a new sandbox of `template` (the native SDK, as the builder), then kills it; its stdout. */
  const runInNew = async (template: string, cmd: string, envs?: Record<string, string>) => {
    const sbx = await Sandbox.create({ apiUrl: s!.server.url, apiKey: env.E2B_API_KEY!, template, ...(envs ? { envs } : {}) });
    try {
      return (await sbx.commands.run(cmd)).stdout;
    } finally {
      await sbx.kill();
    }
  };

  const js = typeof manifest === 'string' ? [] : sdks.js.filter((x) => x.line === 'latest' || x.line === '2.7' || x.line === '2.0');
  for (const sdk of js) {
    test(`npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await report(t, await runScenarios(process.execPath, [scenarioFile('template-build-scenarios.mjs')],
        { ...env, E2B_SDK_DIR: sdk.dir, E2B_SDK_VERSION: sdk.version, TB_PREFIX: `js${sdk.version.replaceAll('.', '')}-${RUN}` }, SCRIPT_TIMEOUT_MS), 7, sdk.version);
    });
  }

  test('the build API refuses bad requests clearly, and its upload URLs are one-time, bounded and per tenant (plain HTTP)', async (t) => {
    if (skip) return t.skip(skip);
    const refused = (r: { status: number; body: { code?: number; message?: string } }, status: number, re: RegExp) => {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, status);
      assert.match(r.body.message ?? '', re);
    };
    refused(await call('/v3/templates', { method: 'POST', json: {} }), 400, /name is required/);
    refused(await call('/v3/templates', { method: 'POST', json: { name: 'Bad Name' } }), 400, /template name 'Bad Name' is invalid/);
    refused(await call('/templates/tags', { method: 'POST', json: { target: 'x:v1', tags: ['prod'] } }), 501, /tags are not supported/);

    const requested = await call('/v3/templates', { method: 'POST', json: { name: `raw-${RUN}:v1`, cpuCount: 1, memoryMB: 512 } });
    assert.equal(requested.status, 202, JSON.stringify(requested.body));
    const { templateID, buildID } = requested.body as { templateID: string; buildID: string };
    assert.equal(templateID, `raw-${RUN}`);
    assert.deepEqual(requested.body.tags, ['v1']);
    refused(await call(`/templates/${templateID}/files/not-a-hash`), 400, /not a sha256/);
    const hash = 'e'.repeat(64);
    refused(await call(`/templates/${templateID}/files/${hash}`, { key: env.E2B_OTHER_API_KEY }), 404, /does not exist/);
    const link = await call(`/templates/${templateID}/files/${hash}`);
    assert.equal(link.status, 201);
    assert.equal(link.body.present, false);
    const url = link.body.url as string;
    assert.ok(url.startsWith(`${env.E2B_API_URL}/template-uploads/`), url);
    // Too large: refused, and the URL is used up.
    refused(await call(url, { method: 'PUT', body: new Uint8Array(25 * 1024 * 1024) }), 400, /larger than/);
    refused(await call(url, { method: 'PUT', body: new Uint8Array(10) }), 403, /unknown, used or expired/);
    const again = await call(`/templates/${templateID}/files/${hash}`);
    assert.equal((await call(again.body.url as string, { method: 'PUT', body: new Uint8Array(10) })).status, 200);
    assert.equal((await call(`/templates/${templateID}/files/${hash}`)).body.present, true);
    // The other tenant's same hash is its own: not present for it.
    const theirs = await call('/v3/templates', { method: 'POST', key: env.E2B_OTHER_API_KEY, json: { name: `raw-${RUN}` } });
    assert.equal((await call(`/templates/${templateID}/files/${hash}`, { key: env.E2B_OTHER_API_KEY })).body.present, false, JSON.stringify(theirs.body));

    const start = `/v2/templates/${templateID}/builds/${buildID}`;
    refused(await call(start, { method: 'POST', json: { fromTemplate: 'base', steps: [{ type: 'ADD', args: ['x', '/x'] }] } }), 400, /'ADD' is not a build instruction/);
    const status = await call(`/templates/${templateID}/builds/${buildID}/status`);
    assert.equal(status.body.status, 'error');
    assert.deepEqual(status.body.reason, { message: "step 1: 'ADD' is not a build instruction agentbox knows (COPY, ENV, RUN, WORKDIR, USER)", step: '1' });
    refused(await call(start, { method: 'POST', json: { fromTemplate: 'base' } }), 409, /was started already/);
    refused(await call(`/templates/${templateID}/builds/${buildID}/status`, { key: env.E2B_OTHER_API_KEY }), 404, /does not exist/);
  });

  test("a template's start command runs once, at the end of its build: creates restore it running, with the template's env and never the create's", async (t) => {
    if (skip) return t.skip(skip);
    const name = `started-${RUN}`;
    // Each run of the start command writes a token of its own, and what it sees of the env.
    const built = await buildTemplate(name, {
      fromTemplate: 'base',
      steps: [{ type: 'ENV', args: ['KIND', 'template'] }],
      startCmd: `echo "${RANDOM_TOKEN} \${KIND:-none} \${FROM_CREATE:-none}" > /tmp/started.txt; exec sleep infinity`,
      readyCmd: 'test -s /tmp/started.txt',
    });
    assert.equal(built.status, 'ready', JSON.stringify(built));
    assert.ok(built.logs?.some((l) => l.includes('Ready; snapshot made')), JSON.stringify(built.logs));
    const started = async () => {
      const out = await runInNew(name, 'cat /tmp/started.txt; echo "$KIND $FROM_CREATE"; cat /proc/[0-9]*/comm 2>/dev/null | grep -cx sleep', { FROM_CREATE: 'yes', KIND: 'create' });
      const [line, cmdEnv, sleeping] = out.trim().split('\n');
      const [token, ...seen] = line!.split(' ');
      return { token, seen: seen.join(' '), cmdEnv, sleeping };
    };
    // The template's first create already restores what the build started.
    const [first, second] = [await started(), await started()];
    for (const r of [first, second]) {
      assert.equal(r.seen, 'template none', 'the start command sees the template\'s env, never the create\'s');
      assert.equal(r.cmdEnv, 'create yes', "a command sees the create's env");
      assert.equal(r.sleeping, '1', 'the start command is running');
    }
    assert.equal(first.token, second.token, 'both creates restored the start command the build ran: no create ran it again');
  });

  test('a ready command without a start command runs once, at the end of the build: creates do not run it again', async (t) => {
    if (skip) return t.skip(skip);
    const name = `checked-${RUN}`;
    // Each run of the check appends a token of its own.
    const built = await buildTemplate(name, { fromTemplate: 'base', steps: [], readyCmd: `echo ${RANDOM_TOKEN} >> /tmp/ready-checks` });
    assert.equal(built.status, 'ready', JSON.stringify(built));
    const checks = async () => (await runInNew(name, 'cat /tmp/ready-checks')).trim().split('\n');
    const [first, second] = [await checks(), await checks()];
    assert.equal(first.length, 1, 'the check ran once');
    assert.deepEqual(first, second, 'both creates hold the check the build ran: no create ran it again');
  });

  test('a start command that fails fails the build at once, with its output, and the build is not kept: a rebuild leaves the previous one serving', async (t) => {
    if (skip) return t.skip(skip);
    const name = `crashes-${RUN}`;
    // The crash ends the wait: the 120 s ready timeout would say "did not pass within".
    const crash = { startCmd: 'python3 -c "import nosuchmodule"', readyCmd: 'test -f /tmp/never' };
    const output = /the start command .*import nosuchmodule.* exited with code 1 before the ready check .*test -f \/tmp\/never.* passed; its last output:\n(.*\n)*ModuleNotFoundError: No module named 'nosuchmodule'$/;
    const first = await buildTemplate(name, { fromTemplate: 'base', steps: [], ...crash });
    assert.equal(first.status, 'error', JSON.stringify(first));
    assert.match(first.reason?.message ?? '', new RegExp(`^this build was not kept: ${output.source}`));
    await assert.rejects(runInNew(name, 'true'), /not found|does not exist/i, 'a template whose only build failed has nothing to create from');

    const good = await buildTemplate(name, { fromTemplate: 'base', steps: [], startCmd: 'echo v1 > /tmp/version; exec sleep infinity', readyCmd: 'test -s /tmp/version' });
    assert.equal(good.status, 'ready', JSON.stringify(good));
    const rebuilt = await buildTemplate(name, { fromTemplate: 'base', steps: [{ type: 'ENV', args: ['V', '2'] }], ...crash });
    assert.equal(rebuilt.status, 'error', JSON.stringify(rebuilt));
    assert.match(rebuilt.reason?.message ?? '', new RegExp(`^this build was not kept \\(the template keeps its previous build\\): ${output.source}`));
    assert.equal(await runInNew(name, 'cat /tmp/version; echo "${V:-unset}"'), 'v1\nunset\n', 'creates get the previous build, its start command running');
  });

  test('PyPI e2b (latest, sync Template)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('template_build_scenarios.py')], { ...env, TB_PREFIX: `py-${RUN}` }, SCRIPT_TIMEOUT_MS), 3);
  });
});
