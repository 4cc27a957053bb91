/**
 * Shared fixture of the E2B conformance suite: the installed SDKs (scripts/e2b-sdks.sh), a real
 * agentbox server over the real engine, and a runner for the scenario scripts, each of which runs
 * in a child process with nothing but the SDK's own environment variables.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { skipOutsideCI } from '../support/ci.ts';

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

/**
 * One subtest per scenario, so a report names exactly what an SDK version could not do. A skip
 * is reported as one only when the feature arrived after `sdkVersion`; otherwise it fails.
 */
export async function report(t: TestContext, run: { results: ScenarioResult[]; stderr: string }, expected: number, sdkVersion?: string): Promise<void> {
  for (const r of run.results) {
    const wrong = r.skip ? illegitimateSkip(r.skip, sdkVersion) : undefined;
    await t.test(r.name, r.skip && !wrong ? { skip: `SDK ${sdkVersion}: ${r.skip}` } : {}, () => {
      assert.equal(wrong, undefined);
      assert.ok(r.ok, r.error);
    });
  }
  assert.equal(run.results.length, expected, `the scenario script stopped early: ${run.stderr}`);
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
