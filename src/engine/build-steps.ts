/**
 * Runs a template's files and run steps inside a sandbox (never as root on the host: a recipe
 * may come from any tenant). The steps see the template's layers through an overlay whose
 * upper dir becomes the template's top layer; they get a fresh network namespace with
 * loopback only, so a build depends on nothing but Debian's packages.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentboxError } from '../api/errors.ts';
import { mountOverlay, unmount } from './images/overlay.ts';
import type { StepRunner } from './images/template-store.ts';
import { buildSpec } from './runtime/oci-spec.ts';
import type { RuntimeDriver } from './runtime/driver.ts';

const BUILD_LIMITS = { cpu: 2, memoryMiB: 4096, pids: 4096 };

export function sandboxedStepRunner(driver: () => RuntimeDriver): StepRunner {
  return async ({ layers, upper, files, script, progress }) => {
    const runtime = driver();
    const work = await mkdtemp(join(dirname(upper), '.steps-'));
    const rootfs = join(work, 'rootfs');
    const id = `build-${randomBytes(8).toString('hex')}`;
    try {
      await mountOverlay({ lower: layers, upper, work: join(work, 'work'), target: rootfs });
      for (const f of files) {
        const target = join(rootfs, f.path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, f.content);
        await chmod(target, f.mode);
      }
      const spec = buildSpec({
        id,
        hostname: 'build',
        runtime: runtime.name,
        rootfs,
        args: ['/bin/sh', '-c', script],
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', DEBIAN_FRONTEND: 'noninteractive' },
        limits: BUILD_LIMITS,
        binds: [],
        cgroupsPath: `/agentbox/${id}`,
      });
      await mkdir(join(work, 'bundle'));
      await writeFile(join(work, 'bundle', 'config.json'), JSON.stringify(spec));
      let partial = '';
      const tail: string[] = [];
      await runtime.runToCompletion(id, join(work, 'bundle'), (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          progress(l);
          tail.push(l);
          if (tail.length > 20) tail.shift();
        }
      }).catch((err: AgentboxError) => {
        const exit = (err.details?.exitCode as number | undefined) ?? 'unknown';
        throw new AgentboxError('invalid_argument', `a run step of the template failed (exit ${exit}); last output:\n${[...tail, partial].join('\n').trim()}`, { cause: err });
      });
      if (partial) progress(partial);
    } finally {
      await runtime.delete(id).catch(() => undefined);
      await unmount(rootfs).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  };
}
