/**
 * Lays out one sandbox's OCI bundle under its directory:
 *
 *   disk.img → disk/       the sandbox's disk: a sparse ext4 image mounted here (images/disk.ts)
 *   disk/upper disk/work   the overlay's private writable layer, inside the disk image
 *   rootfs/                the overlay mount: image layers + the writable layer
 *   checkpoint.img → checkpoint/   from the first pause on: the checkpoint images, in an image of their own
 *   etc/                   resolv.conf and hosts, bind-mounted read-only
 *   guest/config.json      the guest daemon's configuration, mounted at /.agentbox
 *   bundle/config.json     the OCI spec
 *   runtime.log            the runtime's and the guest's own output
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GuestConfigInput } from '../guest/config.ts';
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { EXECD_ENV_FILE, EXECD_PORT } from '../api/opensandbox-execd.ts';
import { AgentboxError } from '../api/errors.ts';
import { GUEST_MOUNT } from '../envd/bundle.ts';
import { isMountPoint } from './images/disk.ts';
import { mountOverlay } from './images/overlay.ts';
import type { LinkAddresses } from './network/addresses.ts';
import { netnsPath } from './network/netns.ts';
import type { UsernsSetup } from './runtime/driver.ts';
import { buildSpec, type SpecMount } from './runtime/oci-spec.ts';
import { runtimeClass } from './runtime/classes.ts';
import { allowLowPorts, giveToSandboxRoot, mountIdmappedOverlay } from './runtime/userns.ts';
import type { EngineRecord } from './sandbox-record.ts';
import type { RuntimeClassName } from './types.ts';

const GUEST_CONFIG_MOUNT = '/.agentbox';

export interface SandboxPaths {
  dir: string;
  /** The writable layer's disk image and its mount point. */
  diskImage: string;
  disk: string;
  upper: string;
  work: string;
  rootfs: string;
  bundle: string;
  etc: string;
  guestDir: string;
  log: string;
  /** The checkpoint's disk image and its mount point (from the first pause on, pause/checkpoint-image.ts). */
  checkpointImage: string;
  checkpoint: string;
}

/**
 * Where the root filesystem is mounted depends on the runtime class (runc's is outside `dir`,
 * userns.ts); without one it is the default place inside `dir`.
 */
export function sandboxPaths(dir: string, runtime?: RuntimeClassName): SandboxPaths {
  return {
    dir,
    diskImage: join(dir, 'disk.img'),
    disk: join(dir, 'disk'),
    upper: join(dir, 'disk', 'upper'),
    work: join(dir, 'disk', 'work'),
    rootfs: runtime ? runtimeClass(runtime).rootfs(dir) : join(dir, 'rootfs'),
    bundle: join(dir, 'bundle'),
    etc: join(dir, 'etc'),
    guestDir: join(dir, 'guest'),
    log: join(dir, 'runtime.log'),
    checkpointImage: join(dir, 'checkpoint.img'),
    checkpoint: join(dir, 'checkpoint'),
  };
}

export interface GuestBundleRef {
  dir: string;
  argv: string[];
}

/**
 * Mounts the root filesystem and writes every file the runtime needs; idempotent. With
 * `userns` (runc) the root filesystem is idmapped and the guest's config belongs to the
 * sandbox's root. `volumes` are bound after the engine's own mounts (../api/volume-mount-path.ts
 * keeps them off and above those).
 */
export async function writeBundle(p: SandboxPaths, record: EngineRecord, link: LinkAddresses, guest: GuestBundleRef, volumes: SpecMount[], userns?: UsernsSetup): Promise<void> {
  // The writable layer must be on its own disk image: on the host filesystem it would have no limit.
  if (!isMountPoint(p.disk)) throw new AgentboxError('internal', `the disk of sandbox ${record.id} is not mounted at ${p.disk}`);
  const overlay = { lower: record.layers, upper: p.upper, work: p.work, target: p.rootfs };
  await (userns ? mountIdmappedOverlay(userns.helper, overlay, userns.mapping) : mountOverlay(overlay));
  if (userns) await allowLowPorts(netnsPath(record.id));
  await Promise.all([p.bundle, p.etc, p.guestDir].map((d) => mkdir(d, { recursive: true })));
  await writeFile(join(p.etc, 'resolv.conf'), `nameserver ${link.hostIp}\noptions ndots:0\n`);
  await writeFile(join(p.etc, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost\n${link.sandboxIp}\t${record.id}\n`);
  const guestConfig: GuestConfigInput = {
    port: GUEST_PORT,
    execdPort: EXECD_PORT,
    execdEnvFile: EXECD_ENV_FILE,
    accessToken: record.accessToken,
    initSecret: record.initSecret,
    envVars: { ...record.imageConfig.env, ...record.env },
    defaultUser: record.imageConfig.user,
    defaultWorkdir: record.imageConfig.workdir,
    start: startConfig(record),
    // Where the host cgroup cannot count the sandbox's tasks, the guest keeps the limit (gvisor.ts).
    pidsLimit: runtimeClass(record.runtime).guestLimitsPids ? record.limits.pids : undefined,
  };
  await writeFile(join(p.guestDir, 'config.json'), JSON.stringify(guestConfig), { mode: 0o600 });
  if (userns) await giveToSandboxRoot(join(p.guestDir, 'config.json'), userns.mapping);
  const spec = buildSpec({
    id: record.id,
    hostname: record.id,
    runtime: record.runtime,
    rootfs: p.rootfs,
    args: guest.argv,
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      AGENTBOX_GUEST_CONFIG: `${GUEST_CONFIG_MOUNT}/config.json`,
      HOSTNAME: record.id,
      // One malloc arena for the guest's threads instead of one each: 1.2 MiB less per idle
      // sandbox (BENCHMARKS.md, issue #13). For the guest alone: it removes the variable once
      // started (src/guest/main.ts), so the programs it starts keep glibc's default.
      MALLOC_ARENA_MAX: '1',
    },
    limits: record.limits,
    netnsPath: netnsPath(record.id),
    binds: [
      { source: guest.dir, destination: GUEST_MOUNT, readonly: true },
      { source: p.guestDir, destination: GUEST_CONFIG_MOUNT, readonly: true },
      { source: join(p.etc, 'resolv.conf'), destination: '/etc/resolv.conf', readonly: true },
      { source: join(p.etc, 'hosts'), destination: '/etc/hosts', readonly: true },
      ...volumes,
    ],
    cgroupsPath: `/agentbox/${record.id}`,
    userns: userns?.mapping,
    apparmorProfile: userns?.apparmorProfile,
  });
  await writeFile(join(p.bundle, 'config.json'), JSON.stringify(spec, null, 1));
}

/**
 * The start command for the guest config. One kept running in the template's golden snapshot
 * (`start.goldenSnapshot`) starts before any create there, so it never sees a create's env; it
 * gets the template's env alone when it boots too, and reads the sandbox's from the guest's
 * GET /envs, as E2B's code interpreter does (templates/code-interpreter-v1.yaml).
 */
function startConfig(record: EngineRecord): GuestConfigInput['start'] {
  const start = record.imageConfig.start;
  return start?.goldenSnapshot ? { ...start, envVars: record.imageConfig.env } : start;
}
