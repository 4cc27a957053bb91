// Template parity (issue 15, groups 8 and 9): the shipped `base` and `code-interpreter-v1`
// templates give what E2B's images give their users, checked through the official SDKs (unchanged)
// on a real server with gVisor sandboxes. `base`: sudo without a password (reaching the sandbox's
// root and no more), python besides python3, pip without a venv, Node.js and npm, git, curl and
// the everyday tools, all as `user`. `code-interpreter-v1`: pandas, scipy, seaborn, scikit-learn
// and the rest import, and plt.show() returns a PNG and E2B's chart data.
// SDK versions: the npm `e2b` newest and the oldest minor on plain HTTP (2.7); 2.0.x differs only in
// how it reaches the server (TLS host routing, covered by conformance.test.ts), not in what runs
// inside the image, so it adds nothing here. PyPI `e2b` and `e2b-code-interpreter` (sync: the
// async client runs the same commands). `@e2b/code-interpreter` at the installed version.
// test-file-timeout: 40 min
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { goldenKeys, untilGoldens } from '../support/golden.ts';
import { runScenarios, scenarioFile, sdkManifest, startE2bServer, type E2bServer, type ScenarioResult, type SdkManifest } from './fixture.ts';

const SCRIPT_TIMEOUT_MS = 300_000;
const manifest = sdkManifest();
const sdks = manifest as SdkManifest;

/** One subtest per scenario, so a failure names what the image lacks; all must have run. */
async function expectAll(t: TestContext, run: { results: ScenarioResult[]; stderr: string }, expected: number): Promise<void> {
  for (const r of run.results) await t.test(r.name, () => assert.ok(r.ok, r.error));
  assert.equal(run.results.length, expected, `the scenario script stopped early: ${run.stderr}`);
}

describe('E2B images: base and code-interpreter-v1 through the official SDKs', () => {
  let e: E2bServer | undefined;
  let skip: string | false = typeof manifest === 'string' ? manifest : false;
  let env: Record<string, string> = {};
  before(async () => {
    if (skip) return;
    // `code-interpreter-v1` is built before each of its tests, also outside an SDK call.
    const r = await startE2bServer('e2b-images', 'gvisor', ['base']);
    if (typeof r === 'string') { skip = r; return; }
    e = r;
    env = e.env;
  });
  after(async () => { await e?.stop(); });

  const jsLines = typeof manifest === 'string' ? [] : sdks.js.filter((x) => x.line === '2.7' || x.line === 'latest');
  for (const sdk of jsLines) {
    test(`base through npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await expectAll(t, await runScenarios(process.execPath, [scenarioFile('template-parity-scenarios.mjs')], { ...env, E2B_SDK_DIR: sdk.dir, E2B_GROUP: 'base' }, SCRIPT_TIMEOUT_MS), 8);
    });
  }

  test('base through PyPI e2b', async (t) => {
    if (skip) return t.skip(skip);
    await expectAll(t, await runScenarios(sdks.python.python, [scenarioFile('template_parity_scenarios.py'), 'base'], env, SCRIPT_TIMEOUT_MS), 6);
  });

  test('code-interpreter-v1 through npm @e2b/code-interpreter', async (t) => {
    if (skip) return t.skip(skip);
    // Its start command runs in its golden snapshot (templates/code-interpreter-v1.yaml): a first
    // create boots and makes it, so the scenarios' sandboxes are restored copies of one kernel.
    const { engine, home, templates } = e!.server.created;
    await templates.ensure('code-interpreter-v1');
    const kinds = goldenKeys(home).length;
    await engine.destroy((await engine.run({ template: 'code-interpreter-v1' })).id);
    await untilGoldens(home, kinds + 1, 300_000);
    await expectAll(t, await runScenarios(process.execPath, [scenarioFile('template-parity-scenarios.mjs')], { ...env, E2B_SDK_DIR: sdks.codeInterpreter.dir, E2B_GROUP: 'code-interpreter' }, SCRIPT_TIMEOUT_MS), 9);

    // Through the native API with an API key, the code interpreter gets the sandbox's env too: the
    // server adds the guest's token that it needs to read it (src/server/service.ts proxyTarget).
    const api = (path: string, init: RequestInit = {}) => fetch(`${e!.server.server.url}${path}`, { ...init, headers: { Authorization: `Bearer ${e!.server.server.adminKey}`, 'Content-Type': 'application/json' } });
    const created = await api('/v1/sandboxes', { method: 'POST', body: JSON.stringify({ template: 'code-interpreter-v1', env: { NATIVE_ENV: 'native' } }) });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    try {
      const run = await api(`/v1/sandboxes/${id}/ports/49999/execute`, { method: 'POST', body: JSON.stringify({ code: 'import os; os.environ["NATIVE_ENV"]' }) });
      const body = await run.text();
      assert.equal(run.status, 200, body);
      const events = body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; text?: string });
      assert.equal(events.find((ev) => ev.type === 'result')?.text, "'native'", JSON.stringify(events));
    } finally {
      await api(`/v1/sandboxes/${id}`, { method: 'DELETE' });
    }
  });

  test('code-interpreter-v1 through PyPI e2b-code-interpreter', async (t) => {
    if (skip) return t.skip(skip);
    await e!.server.created.templates.ensure('code-interpreter-v1');
    await expectAll(t, await runScenarios(sdks.python.python, [scenarioFile('template_parity_scenarios.py'), 'code-interpreter'], env, SCRIPT_TIMEOUT_MS), 4);
  });
});
