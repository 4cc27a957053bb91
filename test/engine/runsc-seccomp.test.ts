// The runsc that scripts/build-runsc.sh builds carries precompiled seccomp programs for the
// options the engine runs it with, so no sandbox start or restore compiles its filters from
// scratch. runsc logs which way it went (runsc/boot/filter/filter.go and
// runsc/fsgofer/filter/filter.go of gVisor); this runs the real binary with the engine's own
// global flags and reads that log for the sentry and the gofer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/engine/command.ts';
import { gvisor } from '../../src/engine/runtime/gvisor.ts';
import { defaultCacheDir } from '../../src/engine/runtime/runtime-classes.ts';
import { skipOutsideCI } from '../support/ci.ts';

const cacheDir = defaultCacheDir();
const asset = await gvisor.discover(cacheDir);
const built = asset?.url.startsWith('file://') && asset.url.includes('/runsc/v');
const skip = built ? false : skipOutsideCI('runsc is not built', 'run bash scripts/build-runsc.sh');

describe('runsc built by scripts/build-runsc.sh', { skip }, () => {
  it('installs precompiled seccomp programs in the sentry and the gofer, and compiles none at start', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'abx-runsc-seccomp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const binary = new URL(asset!.url).pathname;
    const stateDir = join(dir, 'state');
    const setup = await gvisor.setup({ binary, cacheDir, stateDir, platform: 'auto' });
    // `do` runs a command in a throwaway sandbox. Its own network is none, not the engine's
    // sandbox network: both are gVisor's netstack, one seccomp option set (HostNetwork=false).
    const flags = gvisor.globalFlags(stateDir, setup).map((f) => (f === '--network=sandbox' ? '--network=none' : f));
    await runCommand(binary, ['--debug', `--debug-log=${join(dir, 'logs')}/`, ...flags, 'do', '/bin/true'], { timeoutMs: 30_000 });

    const logs = readdirSync(join(dir, 'logs')).map((f) => ({ name: f, text: readFileSync(join(dir, 'logs', f), 'utf8') }));
    const loaded = (kind: string) => logs.filter((l) => l.name.includes(kind) && l.text.includes('Loaded precompiled seccomp instructions'));
    assert.equal(loaded('boot').length, 1, `the sentry's log says it loaded a precompiled program: ${logs.map((l) => l.name).join(', ')}`);
    assert.equal(loaded('gofer').length, 1, "the gofer's log says it loaded a precompiled program");
    const fromScratch = logs.filter((l) => l.text.includes('building seccomp program from scratch')).map((l) => l.name);
    assert.deepEqual(fromScratch, [], 'no process compiled its seccomp program at start');
  });
});
