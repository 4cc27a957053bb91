/**
 * Builds the OCI runtime spec (config.json) of one sandbox. Pure but for the host's pid_max
 * (read once, pids-ceiling.ts): everything else host-specific arrives in `SpecInput`, so the
 * same input always yields the same bundle on one host.
 */
import type { ResourceLimits, RuntimeClassName } from '../types.ts';
import { runtimeClass } from './classes.ts';
import { hostPidMax, perSandboxCeiling } from './pids-ceiling.ts';
import type { IdMapping } from './userns.ts';

export interface SpecMount {
  source: string;
  destination: string;
  readonly: boolean;
}

export interface SpecInput {
  id: string;
  hostname: string;
  runtime: RuntimeClassName;
  /** Host path of the mounted overlay (image layers + writable upper). */
  rootfs: string;
  /** PID 1 argv (the guest daemon's init). */
  args: string[];
  env: Record<string, string>;
  limits: ResourceLimits;
  /** Path of the network namespace the sandbox joins; absent = a new one with loopback only. */
  netnsPath?: string;
  /** Bind mounts such as /opt/agentbox (guest), /etc/resolv.conf, /etc/hosts. */
  binds: SpecMount[];
  /** cgroup path (relative to each v1 hierarchy). */
  cgroupsPath: string;
  /** runc: run in a new user namespace with this mapping (root inside = `hostId` outside). */
  userns?: IdMapping;
  /** runc: the AppArmor profile to confine the sandbox with, where the host has AppArmor. */
  apparmorProfile?: string;
}

/**
 * The capabilities PID 1 keeps: enough for the guest daemon to run processes as other users
 * and manage their files; no CAP_SYS_ADMIN, CAP_NET_RAW, CAP_MKNOD, CAP_SYS_PTRACE or module
 * loading. Everything started by the guest inherits at most this set.
 */
export const SANDBOX_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT',
];

const CFS_PERIOD_US = 100_000;

/** /dev/shm gets half the memory limit: the image expects a usable shm, not runc's 64 MiB default. */
export function shmBytes(limits: ResourceLimits): number {
  return Math.max(64, Math.floor(limits.memoryMiB / 2)) * 1024 * 1024;
}

/** The most `pids` a sandbox may ask for (the guest daemon itself uses about 15). */
export const MAX_PIDS = 4096;

/**
 * The sandbox's host cgroup pids limit: what its runtime class asks for (`pids` itself under
 * runc; a backstop above the guest's own limit under gVisor, see gvisor.ts hostPids), capped
 * at the per-sandbox ceiling derived from the host's pid_max (pids-ceiling.ts): past it the
 * sandbox is stopped, and the host keeps its PIDs.
 */
export function hostPidsLimit(runtime: RuntimeClassName, pids: number, pidMax = hostPidMax()): number {
  return Math.min(runtimeClass(runtime).hostPids(pids), perSandboxCeiling(pidMax));
}

/**
 * Paths hidden from the sandbox (an empty file or directory is mounted over them): kernel
 * memory and keys, timing and interrupt counters usable as side channels (`/proc/interrupts`,
 * the RAPL energy counters under powercap used by the "Platypus" attack), firmware tables and
 * the LSM policy files. The containerd/Docker defaults, plus `/proc/interrupts`.
 */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats',
  '/sys/devices/virtual/powercap', '/sys/firmware', '/sys/kernel/security',
];

/**
 * A sysfs of its own can only be mounted by the owner of the sandbox's network namespace,
 * which the engine creates on the host; in a user namespace the host's /sys is bound
 * read-only instead (what runc itself falls back to in newer versions). It differs in one
 * visible way: /sys/class/net lists the host's interfaces, not the sandbox's.
 */
function sysMount(inUserns: boolean): Record<string, unknown> {
  return inUserns
    ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
}

function idMappings(m: IdMapping): Record<string, unknown> {
  const map = [{ containerID: 0, hostID: m.hostId, size: m.size }];
  return { uidMappings: map, gidMappings: map };
}

export function buildSpec(input: SpecInput): Record<string, unknown> {
  const { limits } = input;
  const cls = runtimeClass(input.runtime).spec;
  const memoryBytes = limits.memoryMiB * 1024 * 1024;
  const env = Object.entries(input.env).map(([k, v]) => `${k}=${v}`);
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmBytes(limits)}`] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sysMount(input.userns !== undefined),
    ...input.binds.map((b) => ({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: ['rbind', 'nosuid', 'nodev', b.readonly ? 'ro' : 'rw'],
    })),
  ];
  mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', cls.cgroupfsWritable ? 'rw' : 'ro'] });
  const linux: Record<string, unknown> = {
    namespaces: [
      ...(input.userns ? [{ type: 'user' }] : []),
      { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' },
      input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' },
    ],
    ...(input.userns ? idMappings(input.userns) : {}),
    cgroupsPath: input.cgroupsPath,
    resources: {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: memoryBytes, swap: memoryBytes },
      cpu: { quota: Math.round(limits.cpu * CFS_PERIOD_US), period: CFS_PERIOD_US },
      pids: { limit: hostPidsLimit(input.runtime, limits.pids) },
    },
    maskedPaths: MASKED_PATHS,
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  };
  if (cls.seccomp) linux.seccomp = cls.seccomp();
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: input.args,
      env,
      cwd: '/',
      capabilities: {
        bounding: SANDBOX_CAPABILITIES,
        effective: SANDBOX_CAPABILITIES,
        permitted: SANDBOX_CAPABILITIES,
      },
      ...(cls.rlimits ? { rlimits: cls.rlimits } : {}),
      noNewPrivileges: cls.noNewPrivileges,
      ...(input.apparmorProfile ? { apparmorProfile: input.apparmorProfile } : {}),
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts,
    linux,
  };
}
