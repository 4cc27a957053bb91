// E2B Volumes (issue 15): the official SDKs, unchanged, drive volumes on a real agentbox server
// with gVisor sandboxes: create/list/get/delete, the content API with its token, mounts at
// create shared by two sandboxes, files surviving their kill, the 64 MiB quota as ENOSPC inside,
// tenant isolation and refused names and paths (volumes-scenarios.mjs, volumes_scenarios.py).
// npm `e2b` 2.51 (latest) and 2.50 (the oldest installed line with `Volume`; the 2.0 and 2.7 lines
// have no Volume class, nor `volumeMounts` in create, so they are not run here) and the Python SDK,
// sync and async. The content API is reached through E2B_VOLUME_API_URL (docs/e2b.md).
// test-file-timeout: 30 min
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reportScenarios as report, runScenarios, scenarioFile, sdkManifest, startE2bServer, tenantKey, type E2bServer, type SdkManifest } from './fixture.ts';

const SCRIPT_TIMEOUT_MS = 600_000;
const manifest = sdkManifest();
const skipAll = typeof manifest === 'string' ? manifest : false;
const sdks = manifest as SdkManifest;
const SCENARIOS = 10;

describe('E2B Volumes through the official SDKs', () => {
  let e: E2bServer | undefined;
  let skip: string | false = skipAll;
  let env: Record<string, string> = {};
  before(async () => {
    if (skip) return;
    const r = await startE2bServer('e2b-volumes', 'gvisor', ['base']);
    if (typeof r === 'string') { skip = r; return; }
    e = r;
    const other = await tenantKey(e.server, 'vol-other');
    const quota = await tenantKey(e.server, 'vol-quota');
    // The quota tenant's policy gives each volume (and sandbox disk) 64 MiB.
    const limits = await e.server.api('/v1/tenants/vol-quota/limits', { method: 'PUT', json: { diskMiB: 64 } });
    assert.equal(limits.status, 200, await limits.text());
    env = { ...e.env, E2B_VOLUME_API_URL: e.env.E2B_API_URL!, OTHER_TENANT_KEY: other, QUOTA_TENANT_KEY: quota };
  });
  after(async () => { await e?.stop(); });

  for (const line of ['latest', '2.50']) {
    const sdk = typeof manifest === 'string' ? undefined : sdks.js.find((x) => x.line === line);
    test(`npm e2b@${sdk?.version ?? line}`, async (t) => {
      if (skip || !sdk) return t.skip(skip || `npm e2b ${line} is not installed`);
      await report(t, await runScenarios(process.execPath, [scenarioFile('volumes-scenarios.mjs')], { ...env, E2B_SDK_DIR: sdk.dir }, SCRIPT_TIMEOUT_MS), SCENARIOS, sdk.version);
    });
  }

  test('PyPI e2b (latest), sync and async', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('volumes_scenarios.py')], env, SCRIPT_TIMEOUT_MS), 5);
  });
});
