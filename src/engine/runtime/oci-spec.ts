/**
 * Builds the OCI runtime spec (config.json) of one sandbox. Pure: everything host-specific
 * arrives in `SpecInput`, so the same input always yields the same bundle.
 */
import type { ResourceLimits, RuntimeClassName } from '../types.ts';
import { runcSeccompProfile } from './seccomp.ts';

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

/**
 * Under gVisor the host cgroup counts the sentry's threads, not the sandbox's tasks (systrap
 * keeps a few host threads per task), and hitting it kills the whole sandbox. So the host limit
 * is a generous backstop and the guest enforces `pids` exactly in the sandbox's own cgroupfs,
 * where a fork bomb only gets EAGAIN (measured: 64 sleeps cost ~230 host threads).
 */
export function hostPidsLimit(runtime: RuntimeClassName, pids: number): number {
  return runtime === 'gvisor' ? pids * 4 + 512 : pids;
}

export function buildSpec(input: SpecInput): Record<string, unknown> {
  const { limits } = input;
  const memoryBytes = limits.memoryMiB * 1024 * 1024;
  const env = Object.entries(input.env).map(([k, v]) => `${k}=${v}`);
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmBytes(limits)}`] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ...input.binds.map((b) => ({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: ['rbind', 'nosuid', 'nodev', b.readonly ? 'ro' : 'rw'],
    })),
  ];
  // gVisor: the sandbox's own cgroupfs, writable so that the guest can apply the pids limit
  // inside the sandbox (see hostPidsLimit). runc: the host's, read-only.
  mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', input.runtime === 'gvisor' ? 'rw' : 'ro'] });
  const linux: Record<string, unknown> = {
    namespaces: [
      { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' },
      input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' },
    ],
    cgroupsPath: input.cgroupsPath,
    resources: {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: memoryBytes, swap: memoryBytes },
      cpu: { quota: Math.round(limits.cpu * CFS_PERIOD_US), period: CFS_PERIOD_US },
      pids: { limit: hostPidsLimit(input.runtime, limits.pids) },
    },
    maskedPaths: [
      '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
      '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
    ],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  };
  if (input.runtime === 'runc') linux.seccomp = runcSeccompProfile();
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
      // runc applies rlimits after dropping CAP_SYS_RESOURCE, so it can only keep the host's.
      ...(input.runtime === 'gvisor' ? { rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }] } : {}),
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts,
    linux,
  };
}
