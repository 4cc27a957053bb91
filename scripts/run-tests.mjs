#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner (tsx loads TypeScript),
// one `node --test` process per file, in two phases (the rule is test/README.md):
// 1. unit tests, src/**/*.test.ts: pure (no root, no network, no server or process started), so
//    they run first, as many at a time as the machine has cores, and answer in seconds;
// 2. integration tests, test/**/*.test.ts: AGENTBOX_TEST_CONCURRENCY (default 2) files at a time.
// Usage: npm test [-- <substring filter>...]
//
// Time limits. Every file has a wall-clock budget: DEFAULT_FILE_MINUTES, or the figure a file
// declares in its first lines as `// test-file-timeout: <n> min`. Node's --test-timeout is set
// to that budget (Node applies it to the file and to every suite and test in it that sets no
// `{ timeout }` of its own; a test with its own, shorter timeout fails by name); should Node
// itself not end, the runner kills the file's whole process group KILL_GRACE_MS later. A stuck
// test fails the run instead of hanging it.
//
// Exclusive files. A file that changes what every other file shares (the real node's runsc, a
// cluster-wide default) declares `// test-file-exclusive: <why>` in its first lines: it starts
// only once no other file runs, and no other file starts until it has ended.
//
// The local Kubernetes. The Kubernetes test files start it (scripts/k8s-env.sh up) and share it;
// the run stops it at its end, or on SIGINT/SIGTERM, unless it was already running when the run
// began. A machine is left as the run found it, not with etcd, an API server, containerd and a
// kubelet running.
//
// Guests. A file that tests the guest daemon's protocol declares `// test-file-guests: typescript
// native` in its first lines: it runs once against each guest, the TypeScript one (src/guest) and
// the native one (crates/guest), which the runner builds with cargo first and names to the file in
// AGENTBOX_TEST_GUEST_BIN (test/guest/fixture.ts); AGENTBOX_GUEST has the engines the file
// creates boot their sandboxes with that guest (src/engine/index.ts). The native run is reported
// as `<file> [native guest]`; a failed build fails those runs. Other files run once, their
// engines with the default guest (the native one).
//
// Skips. Every skipped test is collected (scripts/test-skips-reporter.mjs) and listed at the end.
// In CI (CI=true or CI=1) a skip fails the run unless ALLOWED_SKIPS below names it: in CI every
// suite the README claims must run, so a component that cannot start is a failure, not a skip.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const inCI = /^(1|true)$/i.test(process.env.CI ?? '');
const concurrency = Math.max(1, Number(process.env.AGENTBOX_TEST_CONCURRENCY ?? 2));
const DEFAULT_FILE_MINUTES = 15;
const KILL_GRACE_MS = 30_000;

/**
 * Skips that may stay skips in CI: each names the file, the test (or its reason) and why the
 * skip is legitimate there. Everything else skipped in CI fails the run.
 */
const ALLOWED_SKIPS = [
  {
    file: 'test/e2b/conformance.test.ts',
    reason: /arrived in SDK \d+\.\d+/,
    why: 'an E2B scenario for a feature newer than the SDK version under test; conformance.test.ts fails the'
      + ' scenario instead when the version under test has the feature, and checks that every claimed version is installed',
  },
  {
    file: 'test/e2b/template-build.test.ts',
    reason: /arrived in SDK \d+\.\d+/,
    why: 'E2B\'s Template builder is not in npm e2b 2.0.x; the file fails the scenario instead when the version under test has it',
  },
  {
    file: 'test/e2b/api-parity.test.ts',
    reason: /arrived in SDK \d+\.\d+/,
    why: 'the same version gate as conformance.test.ts (illegitimateSkip), for the control-API and traffic parity scenarios',
  },
  {
    file: 'test/guest/init.test.ts [native guest]',
    reason: /native guest does not serve the agent-sandbox runtime yet/,
    why: 'the agent-sandbox in-pod runtime (src/guest/agent-sandbox-runtime) is only in the TypeScript guest, which'
      + ' Kubernetes pods run; crates/guest/README.md lists what the native guest serves',
  },
];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

/** The file's declared budget (`// test-file-timeout: <n> min` in its first 2 KiB), in ms. */
function budgetMs(file) {
  const head = readFileSync(join(root, file), 'utf8').slice(0, 2048);
  const m = /^\/\/ test-file-timeout: (\d+) min\b/m.exec(head);
  return Number(m?.[1] ?? DEFAULT_FILE_MINUTES) * 60_000;
}

/** Why the file must run alone (`// test-file-exclusive: <why>` in its first 2 KiB), or null. */
function exclusiveReason(file) {
  const head = readFileSync(join(root, file), 'utf8').slice(0, 2048);
  return /^\/\/ test-file-exclusive: (.+)$/m.exec(head)?.[1] ?? null;
}

/** The guests the file declares (`// test-file-guests: <guest> ...` in its first 2 KiB), or none. */
function guestsOf(file) {
  const head = readFileSync(join(root, file), 'utf8').slice(0, 2048);
  const declared = /^\/\/ test-file-guests: (.+)$/m.exec(head)?.[1]?.trim().split(/\s+/) ?? [];
  const unknown = declared.filter((g) => g !== 'typescript' && g !== 'native');
  if (unknown.length) throw new Error(`${file} declares unknown guests: ${unknown.join(' ')} (known: typescript native)`);
  return declared;
}

/**
 * The runs of a file: once as the environment says (the engine's default guest; test/guest's
 * fixture starts the TypeScript guest), or once per declared guest, the TypeScript run
 * unlabelled.
 */
function runsOf(file) {
  const guests = guestsOf(file);
  if (guests.length === 0) return [{ file, label: file }];
  return guests.map((guest) => ({ file, guest, label: guest === 'native' ? `${file} [native guest]` : file }));
}
const selected = (dir) => walk(join(root, dir), []).sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).flatMap(runsOf);
const phases = [
  { name: 'unit tests (src/**/*.test.ts)', files: selected('src'), concurrency: availableParallelism() },
  { name: 'integration tests (test/**/*.test.ts)', files: selected('test'), concurrency },
].filter((p) => p.files.length > 0);
const files = phases.flatMap((p) => p.files);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'agentbox-tests-'));

/**
 * Builds the native guest (debug: it compiles in a fraction of a release's time, and the tests
 * check behaviour, not speed) into the cache the engine's release builds use too
 * (src/envd/native-bundle.ts). Returns the executable, or why it could not be built.
 */
function buildNativeGuest() {
  const targetDir = join(homedir(), '.cache', 'agentbox', 'guest', 'cargo-target');
  const cargo = [join(homedir(), '.cargo', 'bin', 'cargo'), 'cargo'].find((c) => c === 'cargo' || existsSync(c));
  console.log('building the native guest for its test runs (cargo build --manifest-path crates/guest/Cargo.toml)');
  const r = spawnSync(cargo, ['build', '--locked', '--manifest-path', join(root, 'crates/guest/Cargo.toml'), '--target-dir', targetDir], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.status === 0) return { bin: join(targetDir, 'debug', 'agentbox-guest') };
  const why = r.error ? `cannot run cargo (${r.error.message}); install Rust with rustup` : (r.stderr ?? '').trim().split('\n').slice(-15).join('\n');
  return { error: `the native guest did not build:\n${why}` };
}
const nativeGuest = files.some((r) => r.guest === 'native') ? buildNativeGuest() : undefined;

/**
 * A native run's environment. It runs on a test lane four away from the run's own
 * (test/support/test-network.ts), so it may run beside the same file's TypeScript run: each of
 * the two gets networks, nftables tables and DNS ports of its own.
 */
function nativeGuestEnv(bin) {
  const lane = Number(process.env.AGENTBOX_TEST_LANE ?? 0);
  return { AGENTBOX_TEST_GUEST_BIN: bin, AGENTBOX_GUEST: 'native', AGENTBOX_TEST_LANE: String((lane + 4) % 8) };
}

const k8sEnv = (command) => spawnSync('bash', [join(root, 'scripts/k8s-env.sh'), command], { encoding: 'utf8' });
/** Whether any part of the local Kubernetes runs (`k8s-env.sh status` prints `<name> running (pid N)`). */
const k8sRunning = () => / running \(pid \d+\)/.test(k8sEnv('status').stdout ?? '');
const k8sWasRunning = k8sRunning();
/** Stops the local Kubernetes if this run started it. */
function stopK8sWeStarted() {
  if (k8sWasRunning || !k8sRunning()) return;
  const r = k8sEnv('down');
  if (r.status !== 0) console.log(`the local Kubernetes the tests started did not stop (bash scripts/k8s-env.sh down): ${(r.stderr ?? '').trim()}`);
}
const stream = files.length === 1;
const running = new Set();

/** Runs one file against one guest; resolves with {file, status, timedOut, ms, outcomes}, `file` being the run's label. */
function runFile(run, index) {
  const { file, label } = run;
  if (run.guest === 'native' && nativeGuest?.error) {
    console.log(`✖ ${label}: ${nativeGuest.error}`);
    return Promise.resolve({ file: label, status: 1, timedOut: false, ms: 0, outcomes: [] });
  }
  const env = run.guest === 'native' ? { ...process.env, ...nativeGuestEnv(nativeGuest.bin) }
    : run.guest === 'typescript' ? { ...process.env, AGENTBOX_GUEST: 'typescript' } : process.env;
  const budget = budgetMs(file);
  const outcomesFile = join(scratch, `${index}.outcomes.jsonl`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--test', `--test-timeout=${budget}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      `--test-reporter=${join(root, 'scripts/test-skips-reporter.mjs')}`, `--test-reporter-destination=${outcomesFile}`,
      file,
    ], { cwd: root, env, detached: true, stdio: ['ignore', stream ? 'inherit' : 'pipe', stream ? 'inherit' : 'pipe'] });
    running.add(child);
    const output = [];
    child.stdout?.on('data', (c) => output.push(c));
    child.stderr?.on('data', (c) => output.push(c));
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, budget + KILL_GRACE_MS);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      running.delete(child);
      const ms = Date.now() - started;
      if (!stream) {
        process.stdout.write(`\n━━ ${label} (${(ms / 1000).toFixed(1)} s)\n`);
        process.stdout.write(Buffer.concat(output));
      }
      if (timedOut) console.log(`✖ ${label}: killed after its ${budget / 60_000} min budget (plus ${KILL_GRACE_MS / 1000} s grace); Node did not end it`);
      resolve({ file: label, status: code ?? (signal ? 128 : 1), timedOut, ms, outcomes: readOutcomes(outcomesFile, label) });
    });
  });
}

function readOutcomes(path, file) {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { return []; }
  return text.split('\n').filter(Boolean).map((l) => ({ ...JSON.parse(l), file }));
}

function killGroup(child) {
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of running) killGroup(c);
    rmSync(scratch, { recursive: true, force: true });
    stopK8sWeStarted();
    process.exit(130);
  });
}

/**
 * Who may start: any number of ordinary files, or one exclusive file alone. An exclusive file
 * waiting holds back every file not yet started, so it cannot be starved. The check and the
 * count change happen without an await between them, so two workers never both pass.
 */
const gate = { active: 0, held: false, pending: 0, waiters: [] };
async function acquire(alone) {
  if (alone) gate.pending++;
  while (alone ? gate.active > 0 || gate.held : gate.held || gate.pending > 0) await new Promise((r) => gate.waiters.push(r));
  if (alone) { gate.pending--; gate.held = true; }
  gate.active++;
}
function release(alone) {
  gate.active--;
  if (alone) gate.held = false;
  for (const wake of gate.waiters.splice(0)) wake();
}

const results = [];
let fileIndex = 0;
/** Runs one phase's files, `phase.concurrency` at a time; resolves when all have ended. */
async function runPhase(phase) {
  if (!stream) console.log(`\n━━ ${phase.name}: ${phase.files.length} files, ${phase.concurrency} at a time`);
  let next = 0;
  const worker = async () => {
    while (next < phase.files.length) {
      const run = phase.files[next++];
      const alone = exclusiveReason(run.file);
      await acquire(!!alone);
      if (!stream) console.log(`▶ ${run.label}${alone ? ` (alone: ${alone})` : ''}`);
      try {
        results.push(await runFile(run, fileIndex++));
      } finally {
        release(!!alone);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(phase.concurrency, phase.files.length) }, worker));
}
for (const phase of phases) await runPhase(phase);
rmSync(scratch, { recursive: true, force: true });
stopK8sWeStarted();

const allowed = (s) => ALLOWED_SKIPS.find((a) => s.file === a.file && (a.name ? a.name.test(s.name) : a.reason.test(s.reason)));
const failed = results.filter((r) => r.status !== 0);
const outcomes = results.flatMap((r) => r.outcomes);
const skips = outcomes.filter((o) => o.outcome === 'skip');
const count = (outcome) => outcomes.filter((o) => o.outcome === outcome).length;
// A file that failed without a failing test (it crashed while loading, or was killed) counts once.
const failedTests = count('fail') + failed.filter((r) => !r.outcomes.some((o) => o.outcome === 'fail')).length;
const refused = inCI ? skips.filter((s) => !allowed(s)) : [];

console.log(`\n━━ summary: ${files.length} files, ${files.length - failed.length} passed, ${failed.length} failed`);
for (const r of failed) {
  console.log(`  ✖ ${r.file}${r.timedOut ? ' (timed out)' : ''}`);
  for (const o of r.outcomes.filter((x) => x.outcome === 'fail' && x.error)) console.log(`      › ${o.name}: ${o.error.replace(/\s*\n\s*/g, ' ⏎ ')}`);
}
if (skips.length) {
  console.log(`skipped tests: ${skips.length}${inCI ? ` (${refused.length} not on the CI allow-list in scripts/run-tests.mjs)` : ''}`);
  for (const s of skips) {
    const a = allowed(s);
    const tag = inCI ? (a ? ' [allowed in CI]' : ' [FAILS the run: skipped in CI]') : '';
    console.log(`  ﹣ ${s.file} › ${s.name}: ${s.reason || '(no reason given)'}${tag}`);
  }
}
const todos = outcomes.filter((o) => o.outcome === 'todo');
if (todos.length) {
  console.log(`todo tests (run, known open, do not fail the run): ${todos.length}`);
  for (const o of todos) console.log(`  ﹣ ${o.file} › ${o.name}: ${o.reason || 'todo'}`);
}
// The closing line, in the plain form CI systems read: 'tests: N passed, N failed, N skipped'.
console.log(`tests: ${count('pass')} passed, ${failedTests} failed, ${skips.length} skipped`);
process.exit(failed.length || refused.length ? 1 : 0);
