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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateWebhookCerts } from '../../src/k8s/conversion/certs.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { manifestProblems, report, runScenarios, scenarioFile, sdkManifest, type SdkManifest } from './fixture.ts';

const RUNTIME = (process.env.AGENTBOX_E2B_RUNTIME ?? 'gvisor') as 'gvisor' | 'runc';
const DOMAIN = 'agentbox.test';
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
  let s: RealServer | undefined;
  let skip: string | false = skipAll;
  let env: Record<string, string> = {};
  before(async () => {
    if (skip) return;
    const r = await startRealServer('e2b', { runtime: RUNTIME });
    if (typeof r === 'string') { skip = r; return; }
    s = r;
    env = { E2B_API_KEY: s.server.adminKey, E2B_API_URL: `${s.server.url}/e2b`, E2B_SANDBOX_URL: `${s.server.url}/e2b/sandbox` };
    // Built here, not inside an SDK call: a first build (mmdebstrap) outlasts the SDKs' 60 s
    // request timeout. Cached under ~/.cache/agentbox/layers afterwards.
    for (const template of ['base', 'code-interpreter-v1']) await s.created.templates.ensure(template);
    await warmPool(s, 'base', 1);
  });
  after(async () => { await s?.stop(); });

  for (const sdk of typeof manifest === 'string' ? [] : sdks.js.filter((x) => !beforeHeaders(x.version))) {
    test(`npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await report(t, await runScenarios(process.execPath, [scenarioFile('scenarios.mjs')], { ...env, E2B_SDK_DIR: sdk.dir, E2B_SDK_VERSION: sdk.version }, SCRIPT_TIMEOUT_MS), 13, sdk.version);
    });
  }

  test('PyPI e2b (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('scenarios.py')], env, SCRIPT_TIMEOUT_MS), 10);
  });

  test('npm @e2b/code-interpreter (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(process.execPath, [scenarioFile('scenarios-code-interpreter.mjs')], { ...env, E2B_SDK_DIR: sdks.codeInterpreter.dir }, SCRIPT_TIMEOUT_MS * 2), 5);
  });

  test('PyPI e2b-code-interpreter (latest)', async (t) => {
    if (skip) return t.skip(skip);
    await report(t, await runScenarios(sdks.python.python, [scenarioFile('scenarios_code_interpreter.py')], env, SCRIPT_TIMEOUT_MS), 4);
  });
});

describe('E2B SDK 2.0.x through https://api.<domain> and <port>-<id>.<domain> (TLS host routing)', () => {
  let s: RealServer | undefined;
  let skip: string | false = skipAll;
  let dir = '';
  let env: Record<string, string> = {};
  before(async () => {
    if (skip) return;
    const certs = generateWebhookCerts([`*.${DOMAIN}`, DOMAIN]);
    dir = mkdtempSync(join(tmpdir(), 'agentbox-e2b-tls-'));
    writeFileSync(join(dir, 'ca.pem'), certs.caPem);
    const r = await startRealServer('e2b-tls', { runtime: RUNTIME, domain: DOMAIN, tls: { cert: certs.certPem, key: certs.keyPem } });
    if (typeof r === 'string') { skip = r; return; }
    s = r;
    await s.created.templates.ensure('base');
    env = {
      E2B_API_KEY: s.server.adminKey, E2B_DOMAIN: `${DOMAIN}:${s.server.port}`, E2B_TEST_DOMAIN: DOMAIN,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), NODE_OPTIONS: `--import=${scenarioFile('resolve-test-domain.mjs')}`,
    };
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const sdk of typeof manifest === 'string' ? [] : sdks.js.filter((x) => beforeHeaders(x.version))) {
    test(`npm e2b@${sdk.version}`, async (t) => {
      if (skip) return t.skip(skip);
      await report(t, await runScenarios(process.execPath, [scenarioFile('scenarios.mjs')], { ...env, E2B_SDK_DIR: sdk.dir, E2B_SDK_VERSION: sdk.version }, SCRIPT_TIMEOUT_MS), 13, sdk.version);
    });
  }
});
