/**
 * AppArmor confinement of runc sandboxes, where the host has AppArmor (Debian and Ubuntu
 * kernels enable it by default). The profile adds a mandatory-access-control layer under the
 * user namespace and seccomp: no mounts, no writes to /proc and /sys kernel knobs, no
 * ptrace of anything outside the profile, no raw or packet sockets. A host without AppArmor
 * (its kernel lacks the LSM, or apparmor_parser is not installed) runs runc sandboxes
 * without a profile; `agentbox doctor` says so.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../command.ts';

export const RUNC_PROFILE = 'agentbox-runc';

export interface AppArmorHost {
  available: boolean;
  /** Why not, when unavailable; which parser, when available. */
  detail: string;
  parser?: string;
}

const PARSERS = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser', '/usr/bin/apparmor_parser'];

/** Whether the running kernel enforces AppArmor and the host can load profiles into it. */
export function detectAppArmor(securityfs = '/sys/kernel/security', parsers = PARSERS): AppArmorHost {
  if (!existsSync(join(securityfs, 'apparmor'))) {
    return { available: false, detail: `the kernel has no AppArmor (no ${join(securityfs, 'apparmor')})` };
  }
  const parser = parsers.find(existsSync);
  if (!parser) return { available: false, detail: 'AppArmor is enabled but apparmor_parser is not installed (apt-get install apparmor)' };
  return { available: true, detail: `AppArmor with ${parser}`, parser };
}

/** The profile's text; `name` lets tests load it under another name. */
export function runcProfile(name = RUNC_PROFILE): string {
  return `#include <tunables/global>

profile ${name} flags=(attach_disconnected,mediate_deleted) {
  #include <abstractions/base>

  network inet,
  network inet6,
  network unix,
  network netlink,
  deny network raw,
  deny network packet,

  capability,
  file,
  umount,
  signal (send,receive) peer=${name},
  signal (receive) peer=unconfined,

  deny mount,
  deny pivot_root,
  # ptrace only within the profile (the host's unconfined tools are not mediated).
  ptrace (trace,read,tracedby,readby) peer=${name},

  deny @{PROC}/* w,
  deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9/]*}/** w,
  deny @{PROC}/sys/[^k]** w,
  deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,
  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/kernel/security/** rwklx,
  deny /sys/devices/virtual/powercap/** rwklx,
}
`;
}

/** Loads (or replaces) the runc profile into the kernel; returns its name for the OCI spec. */
export async function loadRuncProfile(host: AppArmorHost, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, RUNC_PROFILE);
  await writeFile(file, runcProfile());
  await runCommand(host.parser!, ['--replace', '--skip-cache', file], { errorCode: 'unavailable' });
  return RUNC_PROFILE;
}
