// What scripts/build-runsc.sh adds to gVisor's runsc, checked on the real binary run with the
// engine's own global flags, through runsc's debug log:
// - precompiled seccomp programs for those options, so no sandbox start or restore compiles its
//   filters from scratch (runsc logs which way it went: runsc/boot/filter/filter.go and
//   runsc/fsgofer/filter/filter.go of gVisor);
// - a sentry that collects no garbage while it starts (here: restores) and then gives its free
//   heap back to the host (scripts/runsc-main/sentry_gc.go).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/engine/command.ts';
import { gvisor } from '../../src/engine/runtime/gvisor.ts';
import { RuntimeDriver } from '../../src/engine/runtime/driver.ts';
import { defaultCacheDir } from '../../src/engine/runtime/runtime-classes.ts';
import { bareBundle } from '../support/bare-bundle.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { waitFor } from '../support/wait.ts';

const cacheDir = defaultCacheDir();
const asset = await gvisor.discover(cacheDir);
const built = asset?.url.startsWith('file://') && asset.url.includes('/runsc/v');
const skip = built ? false : skipOutsideCI('runsc is not built', 'run bash scripts/build-runsc.sh');

/** The built runsc with the engine's global flags, in a state directory of its own under `dir`. */
async function builtRunsc(dir: string) {
  const binary = new URL(asset!.url).pathname;
  const stateDir = join(dir, 'state');
  const setup = await gvisor.setup({ binary, cacheDir, stateDir, platform: 'auto', systrapFastPath: 'auto' });
  // Network none, not the engine's sandbox network: both are gVisor's netstack, one seccomp
  // option set (HostNetwork=false), and none needs no network namespace set up for it.
  const flags = gvisor.globalFlags(stateDir, setup).map((f) => (f === '--network=sandbox' ? '--network=none' : f));
  const driver = new RuntimeDriver({ name: 'gvisor', binary, binarySha256: asset!.sha256, stateDir, ...setup });
  return {
    driver,
    /**
     * Runs a runsc command with its debug log in `logDir` (one file per runsc process). A
     * detached sandbox keeps its standard streams open: give those commands an `outputFile`.
     */
    run: (logDir: string, args: string[], outputFile?: string) =>
      runCommand(binary, ['--debug', `--debug-log=${logDir}/`, ...flags, ...args], { timeoutMs: 60_000, ...(outputFile ? { outputFile } : {}) }),
    /** Unmounts what runsc left in the state directory, so that it can be removed. */
    release: () => driver.releaseStateDir(),
  };
}

function readLogs(logDir: string) {
  return readdirSync(logDir).map((f) => ({ name: f, text: readFileSync(join(logDir, f), 'utf8') }));
}

describe('runsc built by scripts/build-runsc.sh', { skip }, () => {
  it('installs precompiled seccomp programs in the sentry and the gofer, and compiles none at start', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'abx-runsc-seccomp-'));
    const runsc = await builtRunsc(dir);
    t.after(async () => {
      await runsc.release();
      rmSync(dir, { recursive: true, force: true });
    });
    // `do` runs a command in a throwaway sandbox.
    await runsc.run(join(dir, 'logs'), ['do', '/bin/true']);

    const logs = readLogs(join(dir, 'logs'));
    const loaded = (kind: string) => logs.filter((l) => l.name.includes(kind) && l.text.includes('Loaded precompiled seccomp instructions'));
    assert.equal(loaded('boot').length, 1, `the sentry's log says it loaded a precompiled program: ${logs.map((l) => l.name).join(', ')}`);
    assert.equal(loaded('gofer').length, 1, "the gofer's log says it loaded a precompiled program");
    const fromScratch = logs.filter((l) => l.text.includes('building seccomp program from scratch')).map((l) => l.name);
    assert.deepEqual(fromScratch, [], 'no process compiled its seccomp program at start');
  });
});

describe('runsc built by scripts/build-runsc.sh, restored', { skip }, () => {
  it('collects nothing while it restores, then gives the garbage back to the host', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'abx-runsc-trim-'));
    const runsc = await builtRunsc(dir);
    const [booted, restored] = [`abx-trim-a-${process.pid}`, `abx-trim-b-${process.pid}`];
    t.after(async () => {
      for (const id of [restored, booted]) await runsc.run(join(dir, 'logs-cleanup'), ['delete', '--force', id]).catch(() => undefined);
      await runsc.release();
      rmSync(dir, { recursive: true, force: true });
    });
    // A sandbox on the host's own root, read-only, that only sleeps: as little as a sandbox holds.
    const bundle = await bareBundle(dir, runsc.driver, '/', booted, ['/bin/sleep', '600']);
    const image = join(dir, 'checkpoint');
    await runsc.run(join(dir, 'logs-run'), ['run', '--detach', '--bundle', bundle, booted], join(dir, 'run.out'));
    await runsc.run(join(dir, 'logs-checkpoint'), ['checkpoint', '--image-path', image, booted]);
    const logs = join(dir, 'logs-restore');
    await runsc.run(logs, ['restore', '--detach', '--bundle', bundle, '--image-path', image, restored], join(dir, 'restore.out'));

    // The sentry's first trim is due a second after it started; a loaded machine may be late.
    const trim = /Sentry heap trim at 1s: (\d+) collections before it, returned (\d+) KiB of free heap to the host/;
    const m = await waitFor("the restored sentry's first heap trim in its log", () => {
      const sentry = readLogs(logs).find((l) => l.name.includes('boot'));
      return sentry && trim.exec(sentry.text);
    }, 30_000, 250);
    const [collections, returned] = [Number(m[1]), Number(m[2])];
    t.diagnostic(`${collections} collections in the first second; the first trim gave back ${returned} KiB`);
    // The restore allocates several MiB, past Go's first heap goal (4 MiB): with the collector
    // running, it collected at least once on the way.
    assert.equal(collections, 0, 'no garbage collection while the sentry restored');
    // Decoding the saved kernel's state leaves most of what it allocated as garbage at once; Go
    // would keep it for reuse (about 3-5 MiB measured for this sandbox: BENCHMARKS.md).
    assert.ok(returned >= 1024, `the first trim gave back ${returned} KiB, expected at least 1 MiB`);
  });
});
