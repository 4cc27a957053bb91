// E2B control-API and sandbox-traffic parity (issue 15, groups 2, 4, 5, 7, 10 and MCP): the
// official SDKs, unchanged, against a real agentbox server with gVisor sandboxes. Each SDK runs
// api-parity-scenarios.mjs / api_parity_scenarios.py in a child process configured only by the
// SDK's environment variables (fixture.ts):
// - the newest npm `e2b`, 2.50.x (the oldest installed line with startedAfter, the metrics window and
//   the killed-sandbox health probe), 2.7.x (the oldest with E2B_SANDBOX_URL) and PyPI `e2b`, through
//   E2B_API_URL / E2B_SANDBOX_URL: signed file URLs land on `/files` at the server's root;
// - npm `e2b` 2.0.x through TLS host routing (https://api.<domain>, <port>-<id>.<domain>), as
//   conformance.test.ts wires it: signed file URLs land on `49983-<id>.<domain>/files`.
// A scenario for a feature newer than the SDK skips saying when it arrived (illegitimateSkip).
// test-file-timeout: 40 min
import { after, before, describe, test } from 'node:test';
import { hostRoutedSuite, reportScenarios as report, runJsScenarios, runScenarios, scenarioFile, sdkManifest, startE2bServer, type E2bServer, type SdkManifest } from './fixture.ts';

const RUNTIME = (process.env.AGENTBOX_E2B_RUNTIME ?? 'gvisor') as 'gvisor' | 'runc';
const SCRIPT_TIMEOUT_MS = 300_000;
const JS_SCENARIOS = 9;
const PY_SCENARIOS = 8;
const manifest = sdkManifest();
const skipAll = typeof manifest === 'string' ? manifest : false;
const sdks = manifest as SdkManifest;
const jsLine = (line: string) => (typeof manifest === 'string' ? [] : sdks.js.filter((x) => x.line === line));

describe('E2B API parity through E2B_API_URL / E2B_SANDBOX_URL', () => {
  let srv: E2bServer | undefined;
  let skip: string | false = skipAll;
  before(async () => {
    if (skip) return;
    const r = await startE2bServer('e2b-parity', RUNTIME, ['base']);
    if (typeof r === 'string') skip = r;
    else srv = r;
  });
  after(async () => { await srv?.server.stop(); });

  for (const sdk of [...jsLine('latest'), ...jsLine('2.50'), ...jsLine('2.7')]) {
    test(`npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await runJsScenarios(t, 'api-parity-scenarios.mjs', sdk, srv!.env, JS_SCENARIOS, SCRIPT_TIMEOUT_MS);
    });
  }

  test('PyPI e2b (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('api_parity_scenarios.py')], srv!.env, SCRIPT_TIMEOUT_MS), PY_SCENARIOS);
  });
});

hostRoutedSuite({
  title: 'E2B API parity for SDK 2.0.x through TLS host routing', serverName: 'e2b-parity-tls', runtime: RUNTIME, skip: skipAll,
  sdks: jsLine('2.0'), script: 'api-parity-scenarios.mjs', expected: JS_SCENARIOS, timeoutMs: SCRIPT_TIMEOUT_MS,
});
