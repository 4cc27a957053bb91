/**
 * Shared fixture of the E2B conformance suite: the installed SDKs (scripts/e2b-sdks.sh), a real
 * agentbox server over the real engine, and a runner for the scenario scripts, each of which runs
 * in a child process with nothing but the SDK's own environment variables.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
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

/** The domain of the TLS server that SDK 2.0.x, which knows only https://<port>-<id>.<domain>, is run against. */
export const TLS_TEST_DOMAIN = 'agentbox.test';

/** A real server for E2B SDKs, and the environment that points a scenario child at it. */
export interface E2bServer {
  server: RealServer;
  /** The SDK's own variables (and, for TLS, its CA and the test domain's resolver, resolve-test-domain.mjs). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The templates are built before any SDK call: a first build (mmdebstrap) outlasts the SDKs' 60 s request timeout. */
async function withTemplates(s: RealServer, templates: string[]): Promise<RealServer> {
  for (const template of templates) await s.created.templates.ensure(template);
  return s;
}

/** A real server reached through E2B_API_URL / E2B_SANDBOX_URL (SDK ≥2.7 and PyPI), or why it cannot run. */
export async function startE2bServer(name: string, runtime: 'gvisor' | 'runc', templates: string[]): Promise<E2bServer | string> {
  const server = await startRealServer(name, { runtime });
  if (typeof server === 'string') return server;
  await withTemplates(server, templates);
  const url = server.server.url;
  return { server, env: { E2B_API_KEY: server.server.adminKey, E2B_API_URL: `${url}/e2b`, E2B_SANDBOX_URL: `${url}/e2b/sandbox` }, stop: () => server.stop() };
}

/**
 * A real server speaking TLS with a self-signed wildcard certificate for `*.agentbox.test`, as
 * SDK 2.0.x needs (https://api.<domain>, https://<port>-<id>.<domain>); or why it cannot run.
 */
export async function startTlsE2bServer(name: string, runtime: 'gvisor' | 'runc', templates: string[]): Promise<E2bServer | string> {
  const certs = generateWebhookCerts([`*.${TLS_TEST_DOMAIN}`, TLS_TEST_DOMAIN]);
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-e2b-tls-'));
  writeFileSync(join(dir, 'ca.pem'), certs.caPem);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const server = await startRealServer(name, { runtime, domain: TLS_TEST_DOMAIN, tls: { cert: certs.certPem, key: certs.keyPem } });
  if (typeof server === 'string') { removeDir(); return server; }
  await withTemplates(server, templates);
  return {
    server,
    env: {
      E2B_API_KEY: server.server.adminKey, E2B_DOMAIN: `${TLS_TEST_DOMAIN}:${server.server.port}`, E2B_TEST_DOMAIN: TLS_TEST_DOMAIN,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), NODE_OPTIONS: `--import=${scenarioFile('resolve-test-domain.mjs')}`,
    },
    stop: async () => { await server.stop(); removeDir(); },
  };
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
