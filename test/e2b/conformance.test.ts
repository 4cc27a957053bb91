// E2B conformance (issue 4): the official SDKs, unchanged, drive a real agentbox server on the
// real engine. scripts/e2b-sdks.sh installs them (npm `e2b` oldest 2.0.x, 2.7.x, 2.50.x, latest;
// `@e2b/code-interpreter` latest; PyPI `e2b` + `e2b-code-interpreter` latest); without them the
// suite skips with that reason outside CI and fails in CI, and a manifest that lacks a claimed
// version fails. Each SDK runs the same scenarios (scenarios.mjs / scenarios.py)
// in a child process configured only through the SDK's own environment variables:
// - SDK ≥2.7 and Python: E2B_API_URL=<server>/e2b, E2B_SANDBOX_URL=<server>/e2b/sandbox (plain HTTP,
//   routing by E2b-Sandbox-Id/-Port headers; 2.7–2.14.0 /files by X-Access-Token);
// - SDK 2.0.x: only https://api.<domain> and https://<port>-<id>.<domain> exist there, so a second
//   server speaks TLS with a self-signed wildcard certificate, and the child resolves the test
//   domain to 127.0.0.1 (resolve-test-domain.mjs; no DNS on loopback).
// Versions run one after another (2 cores); a warm pool of `base` serves the creates.
// test-file-timeout: 60 min
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RealServer } from '../support/real-server.ts';
import { hostRoutedSuite, manifestProblems, reportScenarios as report, runJsScenarios, runScenarios, scenarioFile, sdkManifest, startE2bServer, type E2bServer, type SdkManifest } from './fixture.ts';

const RUNTIME = (process.env.AGENTBOX_E2B_RUNTIME ?? 'gvisor') as 'gvisor' | 'runc';
const SCRIPT_TIMEOUT_MS = 240_000;
const manifest = sdkManifest();
const skipAll = typeof manifest === 'string' ? manifest : false;
const sdks = manifest as SdkManifest;
const beforeHeaders = (v: string) => { const [a, b] = v.split('.').map(Number); return a === 2 && b! < 7; };

test('the installed E2B SDKs are every version the docs claim', (t) => {
  if (skipAll) return t.skip(skipAll);
  assert.deepEqual(manifestProblems(sdks), []);
});

async function warmPool(s: RealServer, template: string, size: number): Promise<void> {
  const res = await s.api(`/v1/pools/${template}`, { method: 'PUT', json: { size } });
  assert.equal(res.status, 200, await res.text());
}

describe('E2B SDKs through E2B_API_URL / E2B_SANDBOX_URL', () => {
  let srv: E2bServer | undefined;
  let skip: string | false = skipAll;
  before(async () => {
    if (skip) return;
    const r = await startE2bServer('e2b', RUNTIME, ['base', 'code-interpreter-v1']);
    if (typeof r === 'string') { skip = r; return; }
    srv = r;
    await warmPool(srv.server, 'base', 1);
  });
  after(async () => { await srv?.server.stop(); });

  for (const sdk of typeof manifest === 'string' ? [] : sdks.js.filter((x) => !beforeHeaders(x.version))) {
    test(`npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await runJsScenarios(t, 'scenarios.mjs', sdk, srv!.env, 13, SCRIPT_TIMEOUT_MS);
    });
  }

  test('PyPI e2b (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('scenarios.py')], srv!.env, SCRIPT_TIMEOUT_MS), 10);
  });

  test('npm @e2b/code-interpreter (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(process.execPath, [scenarioFile('scenarios-code-interpreter.mjs')], { ...srv!.env, E2B_SDK_DIR: sdks.codeInterpreter.dir }, SCRIPT_TIMEOUT_MS * 2), 5);
  });

  test('PyPI e2b-code-interpreter (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('scenarios_code_interpreter.py')], srv!.env, SCRIPT_TIMEOUT_MS), 4);
  });
});

hostRoutedSuite({
  title: 'E2B SDK 2.0.x through https://api.<domain> and <port>-<id>.<domain> (TLS host routing)', serverName: 'e2b-tls', runtime: RUNTIME, skip: skipAll,
  sdks: typeof manifest === 'string' ? [] : sdks.js.filter((x) => beforeHeaders(x.version)), script: 'scenarios.mjs', expected: 13, timeoutMs: SCRIPT_TIMEOUT_MS,
});
