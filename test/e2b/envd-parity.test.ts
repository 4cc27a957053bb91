// test-file-guests: typescript native
// The guest's envd protocol (issue 15, groups 1, 3 and 6) through the official E2B SDKs, unchanged,
// against a real server with gVisor sandboxes: file metadata (envd 0.6.2), entry info in watch
// events, streamed and polled (0.6.3), allowNetworkMounts (0.6.4), removing a missing path, and
// symlinks in getInfo and list. Scenarios: envd-parity-scenarios.mjs (npm) and
// envd_parity_scenarios.py (PyPI, sync and async).
//
// Each scenario runs on the newest SDK and on the oldest one installed that has its API
// (scripts/e2b-sdks.sh installs 2.0.x, 2.7.x, 2.50.x and the latest): metadata and includeEntry
// arrived in npm e2b 2.29 and allowNetworkMounts in 2.30, so their oldest installed line is 2.50;
// remove and getInfo are in every 2.x, so 2.0.x runs those, through TLS host routing.
// test-file-timeout: 20 min
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { e2bServerHooks, runScenarios, scenarioFile, sdkManifest, startHostRoutedServer, startE2bServer, type ScenarioResult, type SdkManifest } from './fixture.ts';

const RUNTIME = (process.env.AGENTBOX_E2B_RUNTIME ?? 'gvisor') as 'gvisor' | 'runc';
const SCRIPT_TIMEOUT_MS = 240_000;
const manifest = sdkManifest();
const skipAll = typeof manifest === 'string' ? manifest : false;
const sdks = manifest as SdkManifest;

const EVERY_2X = ['remove of a missing path is a no-op', "getInfo and list of a symlink: the target's type and the resolved target"];
const SINCE_2_30 = [
  'write with metadata; getInfo, list and rename return it; an overwrite replaces it',
  'watchDir with includeEntry: events carry the entry and its metadata, a removal none',
  'watchDir accepts allowNetworkMounts',
];

/** One subtest per scenario; after `create`, exactly the `expected` scenarios must have reported, in order. */
async function report(t: TestContext, run: { results: ScenarioResult[]; stderr: string }, expected: string[]): Promise<void> {
  for (const r of run.results) await t.test(r.name, () => assert.ok(r.ok, r.error));
  assert.deepEqual(run.results.map((r) => r.name), ['create', ...expected], `the scenario script stopped early: ${run.stderr}`);
}

/** Runs the npm scenarios `names` with the SDK of `line` (scripts/e2b-sdks.sh's manifest). */
function runJs(env: Record<string, string>, line: string, names: string[]) {
  const sdk = sdks.js.find((x) => x.line === line)!;
  return runScenarios(process.execPath, [scenarioFile('envd-parity-scenarios.mjs')], { ...env, E2B_SDK_DIR: sdk.dir, E2B_SCENARIOS: names.join('|') }, SCRIPT_TIMEOUT_MS);
}

describe('E2B SDKs through E2B_API_URL / E2B_SANDBOX_URL', () => {
  const server = e2bServerHooks(skipAll, () => startE2bServer('envd-parity', RUNTIME, ['base']));

  for (const line of ['latest', '2.50']) {
    test(`npm e2b ${line}`, async (t) => {
      const e = server.ready(t);
      if (e) await report(t, await runJs(e.env, line, [...SINCE_2_30, ...EVERY_2X]), [...SINCE_2_30, ...EVERY_2X]);
    });
  }

  test('PyPI e2b (latest), sync and async', async (t) => {
    const e = server.ready(t);
    if (!e) return;
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('envd_parity_scenarios.py')], e.env, SCRIPT_TIMEOUT_MS), [
      'write with metadata; get_info, list and rename return it; an overwrite replaces it',
      'sync watch_dir (polling) with include_entry',
      'async watch_dir (streamed) with include_entry and allow_network_mounts',
      'remove of a missing path is a no-op',
      'get_info and list of a symlink',
    ]);
  });
});

describe('npm e2b 2.0.x through TLS host routing', () => {
  const server = e2bServerHooks(skipAll, () => startHostRoutedServer('envd-parity-tls', RUNTIME, ['base']));

  test('npm e2b 2.0', async (t) => {
    const e = server.ready(t);
    if (e) await report(t, await runJs(e.env, '2.0', EVERY_2X), EVERY_2X);
  });
});
