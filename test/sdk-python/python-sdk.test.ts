// The Python SDK (sdk/python, package `agentbox`) against a real agentbox server on the real
// engine with gVisor sandboxes: pytest runs the sync and asyncio scenarios of this folder
// (test_*.py) in the venv of scripts/python-sdk.sh, configured only through AGENTBOX_URL and
// AGENTBOX_API_KEY (plus the paths of fixtures made here), and each pytest case is reported here
// as a subtest by name. The TypeScript
// SDK's error classes and the guest's Connect codes are handed to pytest as the contract its
// tables must match (test_contract.py).
// test-file-timeout: 25 min
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CONNECT_CODE_OF, ERROR_CODE_OF_CONNECT } from '../../src/api/envd-protocol.ts';
import { runCommand } from '../../src/engine/command.ts';
import { exportTemplate } from '../../src/engine/images/oci-export.ts';
import { errorFromBody } from '../../src/sdk/internal.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';

const HERE = import.meta.dirname;
const SDK_DIR = join(HERE, '..', '..', 'sdk', 'python');
const PYTHON = join(process.env.AGENTBOX_PYTHON_SDK_HOME ?? join(homedir(), '.cache', 'agentbox', 'python-sdk'), 'venv', 'bin', 'python');
const PYTEST_TIMEOUT_MS = 20 * 60_000;
/** Fewer cases than this means pytest stopped collecting or running early. */
const EXPECTED_CASES = 30;

let s: RealServer | undefined;
let skip: string | false = existsSync(PYTHON) ? false : skipOutsideCI(`the Python SDK venv is missing (no ${PYTHON})`, 'run ./scripts/setup.sh --for-tests, or bash scripts/python-sdk.sh');
let dir = '';

before(async () => {
  if (skip) return;
  const r = await startRealServer('py-sdk', { runtime: 'gvisor' });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
  // Built here, not inside a pytest case: a first build (mmdebstrap) outlasts a request timeout.
  for (const template of ['base', 'busybox']) await s.created.templates.ensure(template);
  dir = mkdtempSync(join(tmpdir(), 'agentbox-py-sdk-'));
  // A `docker save` archive for Templates.upload: busybox exported as OCI, converted by skopeo.
  const oci = join(dir, 'busybox-oci.tar');
  await exportTemplate(s.created.templates, 'busybox', { out: oci });
  await runCommand('skopeo', ['copy', '--quiet', `oci-archive:${oci}`, `docker-archive:${join(dir, 'upload.tar')}:py-sdk/upload:v1`]);
});
after(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the Python SDK must agree with: the TypeScript SDK's class for each server code, and how a Connect code reads back. */
function contract(): Record<string, unknown> {
  const codes = [...Object.keys(CONNECT_CODE_OF), 'command_exit', 'http_502'];
  return {
    errorClassOfCode: Object.fromEntries(codes.map((code) => [code, errorFromBody(500, { code, message: 'm' }).constructor.name])),
    errorCodeOfConnect: ERROR_CODE_OF_CONNECT,
  };
}

interface PytestCase { name: string; failure?: string; skipped?: string }

/** The cases of a JUnit XML report (pytest --junitxml), in order. */
function junitCases(xml: string): PytestCase[] {
  const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#10;/g, '\n').replace(/&amp;/g, '&');
  return [...xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(m[1]!)?.[1] ?? '';
    const body = m[2] ?? '';
    const failed = /<(failure|error)\b[^>]*?(?:message="([^"]*)")?[^>]*>([\s\S]*?)<\/\1>|<(failure|error)\b[^>]*\/>/.exec(body);
    const skipped = /<skipped\b[^>]*?message="([^"]*)"/.exec(body);
    return {
      name: `${attr('classname')}.${attr('name')}`,
      ...(failed ? { failure: unescape(`${failed[2] ?? ''}\n${failed[3] ?? ''}`).slice(-3000) } : {}),
      ...(skipped ? { skipped: unescape(skipped[1]!) } : {}),
    };
  });
}

function runPytest(env: Record<string, string>, report: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'pytest', HERE, '-p', 'no:cacheprovider', '-q', `--junitxml=${report}`], {
      // This checkout's SDK comes first on the path: the shared venv's editable install points
      // at whichever checkout ran scripts/python-sdk.sh last, which may be another or gone.
      cwd: HERE, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PYTHONPATH: SDK_DIR, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), PYTEST_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output: output.slice(-6000) }); });
  });
}

test('the Python SDK passes its scenarios against a real server (pytest, sync and asyncio)', async (t) => {
  if (skip || !s) return t.skip(skip || 'no server');
  const contractFile = join(dir, 'contract.json');
  writeFileSync(contractFile, JSON.stringify(contract()));
  const report = join(dir, 'pytest.xml');
  const run = await runPytest({
    AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_TEST_CONTRACT: contractFile, AGENTBOX_TEST_DOCKER_ARCHIVE: join(dir, 'upload.tar'),
  }, report);
  assert.ok(existsSync(report), `pytest wrote no report (exit ${run.code}):\n${run.output}`);
  const cases = junitCases(readFileSync(report, 'utf8'));
  for (const c of cases) {
    await t.test(c.name, c.skipped ? { skip: c.skipped } : {}, () => { assert.equal(c.failure, undefined); });
  }
  assert.ok(cases.length >= EXPECTED_CASES, `pytest ran ${cases.length} cases, expected at least ${EXPECTED_CASES}:\n${run.output}`);
  assert.equal(run.code, 0, run.output);
});
