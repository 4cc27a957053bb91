/**
 * The gVisor runtime class (runsc): the sentry is the boundary and runs as host root; pause
 * writes a checkpoint, so a paused sandbox holds no memory and snapshots are possible.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommand } from '../command.ts';
import { localAsset, type Asset } from './assets.ts';
import type { DriverSetup, GvisorPlatform, RuntimeClass, SystrapFastPath } from './runtime-class.ts';

/** The newest runsc built by scripts/build-runsc.sh, if any. */
function builtRunsc(cacheDir: string): Asset | undefined {
  const dir = join(cacheDir, 'runsc');
  if (!existsSync(dir)) return undefined;
  for (const version of readdirSync(dir).sort().reverse()) {
    const path = join(dir, version, 'runsc');
    const shaFile = join(dir, version, 'runsc.sha256');
    if (existsSync(path) && existsSync(shaFile)) return { url: pathToFileURL(path).href, sha256: readFileSync(shaFile, 'utf8').trim() };
  }
  return undefined;
}

/** Whether gVisor's systrap platform can run a sandbox on this host (ptrace always can, slowly). */
export async function probePlatform(binary: string, stateDir: string, platform: GvisorPlatform): Promise<boolean> {
  try {
    await runCommand(binary, ['--root', join(stateDir, 'probe'), `--platform=${platform}`, '--network=none', 'do', '/bin/true'], { timeoutMs: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * What `choice` comes to on a host with `cpus` CPUs. gVisor never spins with one CPU
 * (pkg/sentry/platform/systrap/systrap.go, `neverEnableFastPath`); with two, a spinning stub or
 * sentry thread holds half the host: turned off, execs took 8-24 % less time at p50 and 37-39 %
 * less at p99, and cold starts and bursts of creates were no slower (BENCHMARKS.md, eighteenth round).
 */
export function resolveSystrapFastPath(choice: SystrapFastPath, cpus: number): DriverSetup['systrapFastPath'] {
  if (choice !== 'auto') return choice;
  return cpus <= 2 ? 'off' : 'adaptive';
}

export const gvisor: RuntimeClass = {
  name: 'gvisor',
  pauseMode: 'checkpoint',

  /** The runsc built by scripts/build-runsc.sh, else Debian's. */
  async discover(cacheDir) {
    const built = builtRunsc(cacheDir);
    if (built) return built;
    const debian = ['/usr/bin/runsc', '/usr/sbin/runsc'].find(existsSync);
    return debian ? localAsset(debian) : undefined;
  },

  async setup({ binary, stateDir, platform, systrapFastPath }) {
    const chosen = platform !== 'auto' ? platform : (await probePlatform(binary, stateDir, 'systrap')) ? 'systrap' : 'ptrace';
    if (chosen !== 'systrap') return { platform: chosen };
    return { platform: chosen, systrapFastPath: resolveSystrapFastPath(systrapFastPath, availableParallelism()) };
  },

  globalFlags(stateDir, setup) {
    return [
      '--root', stateDir,
      `--platform=${setup.platform ?? 'systrap'}`,
      '--network=sandbox',
      // The root filesystem is our overlay on disk; gVisor's own in-memory overlay would keep
      // the sandbox's writes in RAM (and in every checkpoint) instead.
      '--overlay2=none',
      // sudo works as on E2B (templates/base.yaml): the sentry honours setuid bits only with this
      // flag and without no_new_privs (spec below). What it grants is the sandbox's own root.
      '--allow-suid',
      ...(setup.systrapFastPath === 'off' ? ['--systrap-disable-fast-path'] : []),
    ];
  },

  rootfs: (sandboxDir) => join(sandboxDir, 'rootfs'),
  // Inside the sandbox's directory, which teardown removes whole.
  removeRootfs: async () => undefined,

  guestLimitsPids: true,
  mountsVolumes: true,
  /**
   * The host cgroup counts the sentry's threads, not the sandbox's tasks (systrap keeps about
   * two host threads per task: measured 33 idle, 245 with 100 sleeps, 845 with 400), and
   * hitting it stops the whole sandbox, so the guest keeps `pids` exactly in the sandbox's own
   * cgroupfs, where a fork bomb only gets EAGAIN, and the host limit is a backstop above that:
   * three host threads per task plus 256. Root inside the sandbox can raise the in-sandbox
   * limit; the backstop holds (oci-spec.ts caps it at the per-sandbox ceiling).
   */
  hostPids: (pids) => pids * 3 + 256,

  spec: {
    // The sandbox's own cgroupfs, writable so that the guest can apply the pids limit inside
    // the sandbox (see hostPids).
    cgroupfsWritable: true,
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }],
    // Setuid programs may raise a sandbox user to the sandbox's root (the guest daemon's own
    // identity, with the same capability set); the sentry stays the boundary (docs/security.md).
    noNewPrivileges: false,
  },
};
