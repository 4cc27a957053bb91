// README "Runtime classes": a runtime class names its binary as an asset {url, sha256} in
// <home>/runtimes.json; the engine loads it at start, fetches the binary into the
// content-addressed cache and verifies it, and refuses a mismatch; gVisor runs on systrap where
// it works, else ptrace, and `agentbox doctor` says which; on systrap, runtimes.json's
// `systrapFastPath` reaches each sandbox's sentry. On the real runsc built by setup.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { probePlatform, resolveSystrapFastPath } from '../../src/engine/runtime/gvisor.ts';
import { hostProcesses } from '../../src/engine/runtime/host-processes.ts';
import { defaultCacheDir, discoverRuntimeClasses, type RuntimeClassConfig } from '../../src/engine/runtime/runtime-classes.ts';
import { sh, startTestEngine } from '../engine/fixture.ts';

const bin = new URL('../../bin/agentbox.mjs', import.meta.url).pathname;

/** The gvisor and runc classes this host offers (setup pinned them), as runtimes.json entries. */
async function hostClasses(): Promise<{ gvisor: RuntimeClassConfig; runc: RuntimeClassConfig }> {
  const classes = await discoverRuntimeClasses(defaultCacheDir());
  const gvisor = classes.find((c) => c.name === 'gvisor');
  const runc = classes.find((c) => c.name === 'runc');
  assert.ok(gvisor && runc, 'runsc and runc are installed (./scripts/setup.sh)');
  return { gvisor, runc };
}

function homeWith(classes: RuntimeClassConfig[]): string {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-claims-runtimes-'));
  writeFileSync(join(home, 'runtimes.json'), JSON.stringify({ runtimeClasses: classes }));
  return home;
}

test('the engine runs the binary runtimes.json pins, from the content-addressed cache', { timeout: 300_000 }, async (ctx) => {
  const { gvisor, runc } = await hostClasses();
  const t = await startTestEngine('claims-2', { home: homeWith([{ ...gvisor, platform: 'ptrace' }, runc]), defaultRuntime: 'gvisor' });
  ctx.after(() => t.cleanup());
  const sha = gvisor.assets[process.arch]!.sha256;
  const report = t.runtimes.find((r) => r.name === 'gvisor')!;
  assert.equal(report.sha256, sha);
  assert.equal(report.binary, join(defaultCacheDir(), 'assets', 'sha256', sha), 'the binary comes from the cache, by its sha256');
  assert.equal(report.platform, 'ptrace', 'the platform runtimes.json asks for');
  await t.templates.ensure('busybox');
  const s = await t.engine.run({ template: 'busybox' });
  assert.equal(s.runtime, 'gvisor');
  // gVisor's own kernel answers: the sandbox runs under runsc, not the host kernel.
  assert.match(await sh(t.engine, s.id, 'dmesg | head -1'), /gVisor/);
});

test('a runtimes.json sha256 that does not match the binary is refused at engine start', { timeout: 300_000 }, async () => {
  const { gvisor, runc } = await hostClasses();
  const url = gvisor.assets[process.arch]!.url;
  const wrong = 'b'.repeat(64);
  const home = homeWith([{ ...gvisor, assets: { [process.arch]: { url, sha256: wrong } } }, runc]);
  try {
    await assert.rejects(startTestEngine('claims-2', { home, defaultRuntime: 'gvisor' }),
      (e: AgentboxError) => e.code === 'unavailable' && e.message.includes(wrong) && /sha256|integrity|checksum/i.test(e.message));
    assert.equal(existsSync(join(defaultCacheDir(), 'assets', 'sha256', wrong)), false, 'nothing was cached under the wrong hash');
    // With another default the engine starts, reports gvisor unusable and refuses to run it.
    const t = await startTestEngine('claims-2', { home, defaultRuntime: 'runc' });
    try {
      assert.match(t.unavailable.find((u) => u.name === 'gvisor')?.reason ?? '', new RegExp(wrong));
      await assert.rejects(t.engine.run({ template: 'busybox', runtime: 'gvisor' }), (e: AgentboxError) => e.code === 'not_supported');
    } finally {
      await t.cleanup();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('gVisor picks systrap where it works, and agentbox doctor reports the platform in use', { timeout: 300_000 }, async (ctx) => {
  const { gvisor, runc } = await hostClasses();
  const t = await startTestEngine('claims-2', { home: homeWith([gvisor, runc]), defaultRuntime: 'gvisor' });
  ctx.after(() => t.cleanup());
  const report = t.runtimes.find((r) => r.name === 'gvisor')!;
  const probeDir = mkdtempSync(join(tmpdir(), 'agentbox-claims-probe-'));
  ctx.after(() => rmSync(probeDir, { recursive: true, force: true }));
  const systrapWorks = await probePlatform(report.binary, probeDir, 'systrap');
  assert.equal(report.platform, systrapWorks ? 'systrap' : 'ptrace');
  const doctor = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, AGENTBOX_HOME: t.home, AGENTBOX_URL: 'http://127.0.0.1:9' }, timeout: 120_000 });
  const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
  const line = checks.find((c) => c.name === 'runtime gvisor');
  assert.equal(line?.status, 'ok', JSON.stringify(line));
  const fastPath = report.systrapFastPath ? `, systrap fast path ${report.systrapFastPath}` : '';
  assert.equal(line!.detail.endsWith(`(platform ${report.platform}${fastPath})`), true, `doctor names the platform the engine uses: ${line!.detail}`);
  assert.ok(readFileSync(join(t.home, 'runtimes.json'), 'utf8').includes(report.sha256));
});

test('agentbox doctor reports the build a home pinned, and says when the host has built another', { timeout: 300_000 }, async (ctx) => {
  const { gvisor, runc } = await hostClasses();
  // An earlier build, as a home pinned it before scripts/setup.sh built the current one: the
  // current binary with 8 fixed bytes appended (an ELF runs the same; its sha256 differs, and is
  // the same every run, so the asset cache keeps one copy).
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-claims-older-'));
  ctx.after(() => rmSync(dir, { recursive: true, force: true }));
  const current = gvisor.assets[process.arch]!;
  const older = join(dir, 'runsc');
  writeFileSync(older, Buffer.concat([readFileSync(new URL(current.url)), Buffer.from('olderbld')]), { mode: 0o755 });
  const olderSha = createHash('sha256').update(readFileSync(older)).digest('hex');
  const home = homeWith([{ ...gvisor, assets: { [process.arch]: { url: pathToFileURL(older).href, sha256: olderSha } } }, runc]);
  ctx.after(() => rmSync(home, { recursive: true, force: true }));
  const doctor = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, AGENTBOX_URL: 'http://127.0.0.1:9', ...env }, timeout: 120_000 });
    return (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[] }).checks.find((c) => c.name === 'runtime gvisor')!;
  };
  const pinned = doctor({ AGENTBOX_HOME: home });
  assert.equal(pinned.status, 'warn', JSON.stringify(pinned));
  assert.ok(pinned.detail.startsWith(join(defaultCacheDir(), 'assets', 'sha256', olderSha)), `the binary agentbox up runs for this home: ${pinned.detail}`);
  assert.ok(pinned.detail.includes(current.url) && pinned.detail.includes(current.sha256.slice(0, 12)), 'and the build the host has now');
  assert.match(pinned.fix ?? '', /runtimes\.json/);
  // A home that has not started yet pins what the host has now: nothing to warn about.
  const fresh = doctor({ AGENTBOX_HOME: join(dir, 'new-home') });
  assert.equal(fresh.status, 'ok', JSON.stringify(fresh));
  assert.ok(fresh.detail.startsWith(join(defaultCacheDir(), 'assets', 'sha256', current.sha256)));
  assert.equal(existsSync(join(dir, 'new-home', 'runtimes.json')), false, 'doctor pins nothing');
});

/** The flags the sentry of sandbox `id` was started with (runsc re-execs itself as `runsc-sandbox … <id>`). */
function sentryArgs(id: string): string[] {
  const sentry = hostProcesses().find((p) => p.argv[0] === 'runsc-sandbox' && p.argv.at(-1) === id);
  assert.ok(sentry, `the sentry of ${id} runs`);
  return sentry.argv;
}

test('on systrap, a sandbox\'s sentry spins for the fast path only where runtimes.json and the host allow it', { timeout: 300_000 }, async (ctx) => {
  const { gvisor, runc } = await hostClasses();
  // What auto comes to on this host (the rule itself: src/engine/runtime/gvisor.test.ts), then
  // the other setting, which wins over the host either way.
  const auto = resolveSystrapFastPath('auto', availableParallelism());
  const other = auto === 'off' ? 'adaptive' : 'off';
  for (const [setting, expected] of [['auto', auto], [other, other]] as const) {
    const t = await startTestEngine('claims-2', { home: homeWith([{ ...gvisor, systrapFastPath: setting }, runc]), defaultRuntime: 'gvisor' });
    try {
      const report = t.runtimes.find((r) => r.name === 'gvisor')!;
      if (report.platform !== 'systrap') {
        ctx.skip('systrap does not work on this host');
        return;
      }
      assert.equal(report.systrapFastPath, expected, `reported for ${setting}`);
      await t.templates.ensure('busybox');
      const s = await t.engine.run({ template: 'busybox' });
      const args = sentryArgs(s.id);
      assert.equal(args.includes('--systrap-disable-fast-path=true'), expected === 'off', `${setting} on ${availableParallelism()} CPUs: ${args.join(' ')}`);
      assert.equal(await sh(t.engine, s.id, 'echo ok'), 'ok', 'the sandbox works');
    } finally {
      await t.cleanup();
    }
  }
});
