/**
 * What one runtime class is: everything that differs between gVisor and runc (or a micro-VM
 * later) lives in one sibling module that implements this interface (gvisor.ts, runc.ts), and
 * classes.ts lists them. The driver, the OCI spec, the bundle and the engine read these
 * properties and never ask which runtime they run on (docs/architecture.md, rule “runtime classes, not runtime checks”).
 */
import type { PauseMode } from '../types.ts';
import type { Asset } from './assets.ts';

export type GvisorPlatform = 'systrap' | 'ptrace' | 'kvm';

/**
 * Whether systrap's stub threads and sentry spin while they wait for each other (gVisor's
 * adaptive "fast path") or sleep at once. `auto` turns it off on hosts with two CPUs or fewer,
 * where the spinning takes the cores that the sandboxes' work needs (BENCHMARKS.md, eighteenth
 * round), and leaves gVisor's own choice on larger hosts.
 */
export type SystrapFastPath = 'auto' | 'adaptive' | 'off';

/** What a driver needs besides its binary, found once when the driver is made. */
export interface DriverSetup {
  /** gVisor only. */
  platform?: GvisorPlatform;
  /** gVisor on systrap only: what `auto` came to on this host. */
  systrapFastPath?: Exclude<SystrapFastPath, 'auto'>;
  /** runc only: the helper that mounts a sandbox's root filesystem idmapped (userns.ts). */
  idmapHelper?: string;
  /** runc only: the AppArmor profile sandboxes run under, when the host has AppArmor. */
  apparmorProfile?: string;
}

export interface DriverSetupInput {
  binary: string;
  cacheDir: string;
  /** This class's state directory (`--root`). */
  stateDir: string;
  /** From runtimes.json: 'auto' lets the class pick (gVisor only). */
  platform: 'auto' | GvisorPlatform;
  /** From runtimes.json (gVisor on systrap only). */
  systrapFastPath: SystrapFastPath;
}

export interface RuntimeClass {
  readonly name: string;
  /**
   * How pause keeps a sandbox's memory (types.ts PauseMode). `checkpoint` also means the
   * binary can checkpoint and restore, which snapshots and forks need.
   */
  readonly pauseMode: PauseMode;
  /** The binary this host offers for the class, pinned now; undefined when it has none. */
  discover(cacheDir: string): Promise<Asset | undefined>;
  /** Checks the host and prepares what the driver needs; throws when the class cannot run here. */
  setup(input: DriverSetupInput): Promise<DriverSetup>;
  /** Flags before every subcommand of the binary. */
  globalFlags(stateDir: string, setup: DriverSetup): string[];
  /** Where a sandbox's root filesystem is mounted, given the sandbox's directory. */
  rootfs(sandboxDir: string): string;
  /** Removes what mounting `rootfs` left behind once it is unmounted. */
  removeRootfs(rootfs: string): Promise<void>;
  /**
   * Whether the guest daemon must apply the pids limit inside the sandbox, because the host
   * cgroup does not count the sandbox's own tasks.
   */
  readonly guestLimitsPids: boolean;
  /**
   * Whether the sandbox may mount volumes (volumes/disks.ts): its user ids are the host's, so a
   * file a sandbox writes to a shared volume keeps its owner in the next sandbox. Not under runc,
   * whose user namespace shifts every sandbox's ids by its own offset (userns.ts).
   */
  readonly mountsVolumes: boolean;
  /** The sandbox's host cgroup pids limit for `pids` tasks, before the per-sandbox ceiling. */
  hostPids(pids: number): number;
  /** What the class changes in the OCI spec (runtime/oci-spec.ts). */
  readonly spec: {
    /** The sandbox's /sys/fs/cgroup is writable. */
    cgroupfsWritable: boolean;
    /** The seccomp profile the runtime applies itself; undefined when the runtime is the filter. */
    seccomp?: () => unknown;
    /** rlimits for PID 1. */
    rlimits?: { type: string; hard: number; soft: number }[];
    /**
     * Whether every process has no_new_privs, so that setuid programs (sudo, su) grant nothing.
     * False only where root inside the sandbox is no more than the sandbox's root.
     */
    noNewPrivileges: boolean;
  };
}
