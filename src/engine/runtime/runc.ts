/**
 * The runc runtime class: the host kernel is the boundary, hardened by a user namespace per
 * sandbox (userns.ts), seccomp (seccomp.ts) and AppArmor where the host has it (apparmor.ts).
 * Debian's CRIU 3.17 cannot checkpoint on this kernel, so pause freezes the cgroup and memory
 * stays resident.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { detectAppArmor, loadRuncProfile } from './apparmor.ts';
import { localAsset } from './assets.ts';
import type { RuntimeClass } from './runtime-class.ts';
import { runcSeccompProfile } from './seccomp.ts';
import { ensureIdmapHelper, probeIdmappedOverlay, removeUsernsRootfs, usernsRootfs } from './userns.ts';

export const runc: RuntimeClass = {
  name: 'runc',
  pauseMode: 'freeze',

  async discover() {
    const path = ['/usr/sbin/runc', '/usr/bin/runc'].find(existsSync);
    return path ? localAsset(path) : undefined;
  },

  /**
   * What makes runc a boundary: without idmapped mounts the class is unavailable rather than
   * silently weaker; without AppArmor it runs with user namespaces and seccomp only.
   */
  async setup({ cacheDir, stateDir }) {
    const idmapHelper = await ensureIdmapHelper(cacheDir);
    try {
      await probeIdmappedOverlay(idmapHelper, stateDir);
    } catch (err) {
      throw new AgentboxError('not_supported', `runc sandboxes need idmapped overlay layers (Linux 6.8 or newer): ${(err as Error).message}`);
    }
    const apparmor = detectAppArmor();
    return { idmapHelper, apparmorProfile: apparmor.available ? await loadRuncProfile(apparmor, join(cacheDir, 'apparmor')) : undefined };
  },

  globalFlags: (stateDir) => ['--root', stateDir],

  // runc enters the user namespace before it mounts the root filesystem: outside the 0700 home.
  rootfs: usernsRootfs,
  removeRootfs: removeUsernsRootfs,

  guestLimitsPids: false,
  mountsVolumes: false,
  hostPids: (pids) => pids,

  spec: {
    // The host's cgroupfs, read-only.
    cgroupfsWritable: false,
    seccomp: runcSeccompProfile,
    // No rlimits: runc applies them after dropping CAP_SYS_RESOURCE, so it can only keep the host's.
    // The host kernel is the boundary here: no process gains privileges through setuid programs.
    noNewPrivileges: true,
  },
};
