// E2B template builds (issue 15): the official SDKs' `Template` builder, unchanged, builds
// templates on a real agentbox server over the real engine (gVisor; each build's steps run in a
// sandbox), and sandboxes start from them. Scenario scripts: template-build-scenarios.mjs (npm
// `e2b`: the latest, and 2.7, the oldest claimed line with `Template`; 2.0.x reports a skip that
// names 2.7) and template_build_scenarios.py (PyPI `e2b`, sync). Both callers are tenants (not
// admins), so their templates are private, and a second tenant checks isolation.
// test-file-timeout: 45 min
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { report, runScenarios, scenarioFile, sdkManifest, type SdkManifest } from './fixture.ts';

const SCRIPT_TIMEOUT_MS = 900_000;
/** In template names and RUN lines, so no run is served from an earlier run's build cache (its RUN output would be missing from the logs). */
const RUN = Date.now().toString(36);
const manifest = sdkManifest();
const sdks = manifest as SdkManifest;

async function tenantKey(s: RealServer, tenant: string): Promise<string> {
  const res = await s.api('/v1/keys', { method: 'POST', json: { tenant } });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.key as string;
}

describe('E2B Template builds through E2B_API_URL', () => {
  let s: RealServer | undefined;
  let skip: string | false = typeof manifest === 'string' ? manifest : false;
  let env: Record<string, string> = {};
  before(async () => {
    if (skip) return;
    const r = await startRealServer('e2b-tbuild', { runtime: 'gvisor' });
    if (typeof r === 'string') { skip = r; return; }
    s = r;
    // Built here, not inside an SDK call: a first build (mmdebstrap) outlasts the SDKs' request timeouts.
    await s.created.templates.ensure('base');
    env = {
      E2B_API_KEY: await tenantKey(s, 'builder'), E2B_OTHER_API_KEY: await tenantKey(s, 'neighbour'),
      E2B_API_URL: `${s.server.url}/e2b`, E2B_SANDBOX_URL: `${s.server.url}/e2b/sandbox`,
    };
  });
  after(async () => { await s?.stop(); });

  const js = typeof manifest === 'string' ? [] : sdks.js.filter((x) => x.line === 'latest' || x.line === '2.7' || x.line === '2.0');
  for (const sdk of js) {
    test(`npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await report(t, await runScenarios(process.execPath, [scenarioFile('template-build-scenarios.mjs')],
        { ...env, E2B_SDK_DIR: sdk.dir, E2B_SDK_VERSION: sdk.version, TB_PREFIX: `js${sdk.version.replaceAll('.', '')}-${RUN}` }, SCRIPT_TIMEOUT_MS), 5, sdk.version);
    });
  }

  test('PyPI e2b (latest, sync Template)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('template_build_scenarios.py')], { ...env, TB_PREFIX: `py-${RUN}` }, SCRIPT_TIMEOUT_MS), 3);
  });
});
