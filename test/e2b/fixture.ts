/**
 * Shared fixture of the E2B conformance suite: the installed SDKs (scripts/e2b-sdks.sh), a real
 * agentbox server over the real engine, and a runner for the scenario scripts, each of which runs
 * in a child process with nothing but the SDK's own environment variables.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { generateWebhookCerts } from '../../src/k8s/conversion/certs.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';

export interface SdkManifest {
  js: { line: string; version: string; dir: string }[];
  codeInterpreter: { version: string; dir: string };
  python: { dir: string; python: string };
}

/**
 * The npm `e2b` lines the docs claim conformance for (docs/e2b.md, README): the oldest 2.0.x,
 * the newest 2.7.x and 2.50.x, and the latest release.
 */
export const CLAIMED_JS_LINES = ['2.0', '2.7', '2.50', 'latest'];

/** `skip` names why a scenario did not apply (a feature newer than the SDK version). */
export interface ScenarioResult { name: string; ok: boolean; ms: number; error?: string; skip?: string }

const HERE = import.meta.dirname;

/** The installed SDKs; outside CI, why the suite must skip when they are not installed. */
export function sdkManifest(): SdkManifest | string {
  const root = process.env.AGENTBOX_E2B_SDKS ?? join(homedir(), '.cache', 'agentbox', 'e2b-sdks');
  const file = join(root, 'manifest.json');
  if (!existsSync(file)) return skipOutsideCI(`the E2B SDKs are not installed (no ${file})`, 'run ./scripts/setup.sh --for-tests, or bash scripts/e2b-sdks.sh');
  return JSON.parse(readFileSync(file, 'utf8')) as SdkManifest;
}

/**
 * The latest installed npm `e2b`, loaded into this process (benchmarks, and tests that drive it
 * beside the native SDK), with its version; why not, when the manifest names no latest line.
 */
export async function loadLatestE2b<T>(manifest: SdkManifest): Promise<{ version: string; sdk: T } | string> {
  const latest = manifest.js.find((x) => x.line === 'latest');
  if (!latest) return 'the SDK manifest names no latest npm e2b; run scripts/e2b-sdks.sh';
  const req = createRequire(join(latest.dir, 'package.json'));
  return { version: latest.version, sdk: await import(pathToFileURL(req.resolve('e2b')).href) as T };
}

/** Orders two x.y.z versions: negative when `a` is older. */
function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (pa![i] !== pb![i]) return (pa![i] ?? 0) - (pb![i] ?? 0);
  return 0;
}

/** What is wrong with the manifest against the claimed SDK set; empty when it is complete. */
export function manifestProblems(m: SdkManifest): string[] {
  const problems: string[] = [];
  const lines = m.js.map((x) => x.line);
  if (JSON.stringify(lines) !== JSON.stringify(CLAIMED_JS_LINES)) problems.push(`npm e2b lines are ${JSON.stringify(lines)}, the docs claim ${JSON.stringify(CLAIMED_JS_LINES)}`);
  for (const x of m.js) {
    if (x.line !== 'latest' && !x.version.startsWith(`${x.line}.`)) problems.push(`npm e2b@${x.version} does not belong to line ${x.line}`);
    if (!existsSync(join(x.dir, '.done'))) problems.push(`npm e2b@${x.version}: ${x.dir} is not a finished install`);
  }
  const latest = m.js.find((x) => x.line === 'latest');
  for (const x of m.js) if (latest && compareVersions(latest.version, x.version) < 0) problems.push(`'latest' ${latest.version} is older than ${x.version}`);
  if (!existsSync(join(m.codeInterpreter.dir, '.done'))) problems.push(`@e2b/code-interpreter: ${m.codeInterpreter.dir} is not a finished install`);
  if (!existsSync(m.python.python)) problems.push(`the PyPI SDKs' python ${m.python.python} is missing`);
  return problems;
}

/**
 * Why a scenario's skip is wrong, or undefined when it is legitimate: a scenario may skip only a
 * feature that arrived after the SDK version under test, saying `arrived in SDK <major>.<minor>`.
 */
export function illegitimateSkip(reason: string, sdkVersion: string | undefined): string | undefined {
  const m = /arrived in SDK (\d+)\.(\d+)/.exec(reason);
  if (!m || !sdkVersion) return `a scenario skipped without naming the SDK version its feature arrived in: ${reason}`;
  if (compareVersions(sdkVersion, `${m[1]}.${m[2]}.0`) >= 0) return `SDK ${sdkVersion} has this feature (${reason}), yet the scenario skipped it`;
  return undefined;
}

/** Runs a scenario script; resolves with its JSON lines. Bounded by `timeoutMs`. */
export function runScenarios(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ results: ScenarioResult[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: HERE, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const results = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ScenarioResult);
      resolve({ results, stderr: err.slice(-4000) });
    });
  });
}

export const scenarioFile = (name: string) => join(HERE, name);

/**
 * One subtest per scenario, so a report names exactly what an SDK version could not do. A skip
 * is reported as one only when the feature arrived after `sdkVersion`; otherwise it fails.
 */
export async function reportScenarios(t: TestContext, run: { results: ScenarioResult[]; stderr: string }, expected: number, sdkVersion?: string): Promise<void> {
  for (const r of run.results) {
    const wrong = r.skip ? illegitimateSkip(r.skip, sdkVersion) : undefined;
    await t.test(r.name, r.skip && !wrong ? { skip: `SDK ${sdkVersion}: ${r.skip}` } : {}, () => {
      assert.equal(wrong, undefined);
      assert.ok(r.ok, r.error);
    });
  }
  assert.equal(run.results.length, expected, `the scenario script stopped early: ${run.stderr}`);
}

/** A real server for E2B SDKs, the environment that points a scenario child at it, and its stop. */
export interface E2bServer { server: RealServer; env: Record<string, string>; stop(): Promise<void> }

/**
 * A real server for SDK ≥2.7 and Python, reached through E2B_API_URL / E2B_SANDBOX_URL, with
 * `templates` built: here, not inside an SDK call, since a first build (mmdebstrap) outlasts the
 * SDKs' 60 s request timeout (cached under ~/.cache/agentbox/layers afterwards).
 */
export async function startE2bServer(name: string, runtime: 'gvisor' | 'runc', templates: string[]): Promise<E2bServer | string> {
  const r = await startRealServer(name, { runtime });
  if (typeof r === 'string') return r;
  for (const template of templates) await r.created.templates.ensure(template);
  return { server: r, env: { E2B_API_KEY: r.server.adminKey, E2B_API_URL: `${r.server.url}/e2b`, E2B_SANDBOX_URL: `${r.server.url}/e2b/sandbox` }, stop: () => r.stop() };
}

/** A new API key of `tenant` on a real server (created with the tenant). */
export async function tenantKey(s: RealServer, tenant: string): Promise<string> {
  const res = await s.api('/v1/keys', { method: 'POST', json: { tenant } });
  const body = await res.json() as { key: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.key;
}

/** The wildcard domain the host-routed servers serve (resolved to loopback by resolve-test-domain.mjs). */
export const TEST_DOMAIN = 'agentbox.test';

/**
 * A real server for SDK 2.0.x, which reaches only https://api.<domain> and
 * https://<port>-<id>.<domain>: TLS with a self-signed wildcard certificate, and the child
 * process's environment that trusts it and resolves the test domain to 127.0.0.1; `templates`
 * built as in startE2bServer.
 */
export async function startHostRoutedServer(name: string, runtime: 'gvisor' | 'runc', templates: string[]): Promise<E2bServer | string> {
  const certs = generateWebhookCerts([`*.${TEST_DOMAIN}`, TEST_DOMAIN]);
  const dir = mkdtempSync(join(tmpdir(), `agentbox-${name}-`));
  writeFileSync(join(dir, 'ca.pem'), certs.caPem);
  const r = await startRealServer(name, { runtime, domain: TEST_DOMAIN, tls: { cert: certs.certPem, key: certs.keyPem } });
  if (typeof r === 'string') {
    rmSync(dir, { recursive: true, force: true });
    return r;
  }
  for (const template of templates) await r.created.templates.ensure(template);
  return {
    server: r,
    env: {
      E2B_API_KEY: r.server.adminKey, E2B_DOMAIN: `${TEST_DOMAIN}:${r.server.port}`, E2B_TEST_DOMAIN: TEST_DOMAIN,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), NODE_OPTIONS: `--import=${scenarioFile('resolve-test-domain.mjs')}`,
    },
    async stop() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one npm `e2b` version's scenario script and reports it (reportScenarios). */
export async function runJsScenarios(t: TestContext, script: string, sdk: { dir: string; version: string }, env: Record<string, string>, expected: number, timeoutMs: number): Promise<void> {
  await reportScenarios(t, await runScenarios(process.execPath, [scenarioFile(script)], { ...env, E2B_SDK_DIR: sdk.dir, E2B_SDK_VERSION: sdk.version }, timeoutMs), expected, sdk.version);
}

/** A suite that runs `script` with each of `sdks` (SDK 2.0.x) against its own host-routed server. */
export function hostRoutedSuite(o: {
  title: string; serverName: string; runtime: 'gvisor' | 'runc'; skip: string | false;
  sdks: { dir: string; version: string }[]; script: string; expected: number; timeoutMs: number;
}): void {
  describe(o.title, () => {
    const server = e2bServerHooks(o.skip, () => startHostRoutedServer(o.serverName, o.runtime, ['base']));
    for (const sdk of o.sdks) {
      test(`npm e2b@${sdk.version}`, async (t) => {
        const h = server.ready(t);
        if (h) await runJsScenarios(t, o.script, sdk, h.env, o.expected, o.timeoutMs);
      });
    }
  });
}

/**
 * Starts `start` before the enclosing describe's tests and stops it after them. `ready(t)` is the
 * server, or undefined once `t` is skipped with the reason (none given, `skipAll`, or the start's).
 */
export function e2bServerHooks(skipAll: string | false, start: () => Promise<E2bServer | string>): { ready(t: TestContext): E2bServer | undefined } {
  let e: E2bServer | undefined;
  let skip = skipAll;
  before(async () => {
    if (skip) return;
    const r = await start();
    if (typeof r === 'string') skip = r;
    else e = r;
  });
  after(async () => { await e?.stop(); });
  return {
    ready(t) {
      if (skip) t.skip(skip);
      return skip ? undefined : e;
    },
  };
}
