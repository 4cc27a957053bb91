/** OCI bundles that run a program on a root filesystem under a runtime directly, without the engine, for tests and benchmarks. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeDriver } from '../../src/engine/runtime/driver.ts';
import { buildSpec } from '../../src/engine/runtime/oci-spec.ts';

/** A bundle at `<dir>/<id>` that runs `args` straight on `rootfs` (read-only unless `writable`): no guest, no network. */
export async function bareBundle(dir: string, driver: RuntimeDriver, rootfs: string, id: string, args: string[], opts: { writable?: boolean } = {}): Promise<string> {
  const bundle = join(dir, id);
  await mkdir(bundle, { recursive: true });
  const spec = buildSpec({
    id, hostname: id, runtime: driver.name, rootfs, args, env: { PATH: '/bin:/usr/bin' },
    limits: { cpu: 1, memoryMiB: 256, pids: 512 }, binds: [], cgroupsPath: `/agentbox/${id}`,
  });
  (spec.root as { readonly: boolean }).readonly = !opts.writable;
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}
