/**
 * Runs a template's files and run steps inside a sandbox (never as root on the host: a recipe
 * may come from any tenant). The steps see the template's layers through an overlay whose
 * upper dir becomes the template's top layer; they get a fresh network namespace with
 * loopback only, so a build depends on nothing but Debian's packages.
 *
 * Recipe files are not written by the host: it stages their contents, a static busybox and a
 * copy script in a private directory, binds that read-only at STAGE inside the sandbox (under
 * the /dev tmpfs, so the mount point never lands in the layer), and the script copies them into
 * place from inside. Paths then resolve against the image's root, whatever `..` or symlinks the
 * image holds, and can never reach the host's files.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { AgentboxError } from '../api/errors.ts';
import { mountOverlay, unmount } from './images/overlay.ts';
import { fileBytes } from './images/recipe.ts';
import type { StepRunner } from './images/template-store.ts';
import { buildSpec } from './runtime/oci-spec.ts';
import type { RuntimeDriver } from './runtime/driver.ts';

const BUILD_LIMITS = { cpu: 2, memoryMiB: 4096, pids: 4096 };
/** Where the staging directory appears inside the build sandbox. */
const STAGE = '/dev/.agentbox-build';
/** Debian's busybox-static: copies the files in even when the image has no shell or coreutils. */
const HOST_BUSYBOX = '/bin/busybox';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** What tools print when they reach for a network a run step does not have (apt, pip, npm, curl, wget, git, busybox). */
const NO_NETWORK = /Temporary failure (in name resolution|resolving)|Could not resolve|Name or service not known|Network is unreachable|bad address '|getaddrinfo|EAI_AGAIN|ENOTFOUND|ENETUNREACH/;
const NO_NETWORK_HINT = 'run steps have no network: Debian packages go in the `packages` of a recipe built from a Debian release (an E2B build starts from a template that has them), other files in through `files` (in an E2B build, COPY)';

/** The copy script: replaces (never writes through) whatever is at each path, then sets the mode. */
function filesScript(files: Parameters<StepRunner>[0]['files']): string {
  const lines = ['set -e', `B=${STAGE}/busybox`];
  files.forEach((f, i) => {
    const p = quote(f.path);
    lines.push(`"$B" mkdir -p ${quote(posix.dirname(f.path))}`, `"$B" rm -f ${p}`, `"$B" cp ${STAGE}/files/${i} ${p}`, `"$B" chmod ${f.mode.toString(8)} ${p}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The run steps, each announced on stdout by `marker N` so the host knows which step is running
 * (the per-step timeout restarts at each marker and the timeout error names the step).
 */
function stepsScript(run: string[], marker: string): string {
  return `set -e\n${run.map((step, i) => `printf '%s\\n' '${marker} ${i + 1}'\n${step}\n`).join('')}`;
}

export function sandboxedStepRunner(driver: () => RuntimeDriver): StepRunner {
  return async ({ template, layers, upper, files, run, progress, timeouts }) => {
    const runtime = driver();
    const work = await mkdtemp(join(dirname(upper), '.steps-'));
    const rootfs = join(work, 'rootfs');
    const stage = join(work, 'stage');
    const id = `build-${randomBytes(8).toString('hex')}`;
    const marker = `agentbox-step-${randomBytes(8).toString('hex')}`;
    try {
      await mkdir(join(stage, 'files'), { recursive: true, mode: 0o700 });
      await copyFile(HOST_BUSYBOX, join(stage, 'busybox')).catch((err: unknown) => {
        throw new AgentboxError('unavailable', `${HOST_BUSYBOX} is missing: install Debian's busybox-static package (apt-get install busybox-static)`, { cause: err });
      });
      await Promise.all(files.map((f, i) => writeFile(join(stage, 'files', String(i)), fileBytes(f), { mode: 0o600 })));
      await writeFile(join(stage, 'files.sh'), filesScript(files));
      await writeFile(join(stage, 'steps.sh'), stepsScript(run, marker));
      // Files first (with the staged busybox), then the steps with the image's own shell.
      const script = `"${STAGE}/busybox" sh ${STAGE}/files.sh${run.length ? ` && exec /bin/sh ${STAGE}/steps.sh` : ''}`;
      await mountOverlay({ lower: layers, upper, work: join(work, 'work'), target: rootfs });
      const spec = buildSpec({
        id,
        hostname: 'build',
        runtime: runtime.name,
        rootfs,
        args: [`${STAGE}/busybox`, 'sh', '-c', script],
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', DEBIAN_FRONTEND: 'noninteractive' },
        limits: BUILD_LIMITS,
        binds: [{ source: stage, destination: STAGE, readonly: true }],
        cgroupsPath: `/agentbox/${id}`,
      });
      await mkdir(join(work, 'bundle'));
      await writeFile(join(work, 'bundle', 'config.json'), JSON.stringify(spec));

      const clock = new StepClock(template, run, timeouts);
      let partial = '';
      const tail: string[] = [];
      const onLine = (l: string) => {
        const at = l.indexOf(marker);
        if (at >= 0) {
          if (at > 0) onLine(l.slice(0, at));
          clock.enter(Number(l.slice(at + marker.length + 1)));
          return;
        }
        progress(l);
        tail.push(l);
        if (tail.length > 20) tail.shift();
      };
      try {
        await runtime.runToCompletion(id, join(work, 'bundle'), (chunk) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          lines.forEach(onLine);
        }, clock.signal);
      } catch (err) {
        if (clock.expired) throw clock.expired;
        const exit = ((err as AgentboxError).details?.exitCode as number | undefined) ?? 'unknown';
        const which = clock.step > 0 ? `run step ${clock.step} (${JSON.stringify(clock.describe())})` : 'copying the recipe files';
        const output = [...tail, partial].join('\n').trim();
        const hint = NO_NETWORK.test(output) ? `\n(${NO_NETWORK_HINT})` : '';
        throw new AgentboxError('invalid_argument', `${which} of template '${template}' failed (exit ${exit}); last output:\n${output}${hint}`,
          { cause: err, details: { template, step: clock.step } });
      } finally {
        clock.stop();
      }
      if (partial) progress(partial);
    } finally {
      await runtime.delete(id).catch(() => undefined);
      await unmount(rootfs).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  };
}

/**
 * The two build deadlines: each run step gets `stepMs` from its marker, and nothing runs past the
 * whole build's `deadline`. Either aborts the runtime and leaves the error to report in `expired`.
 */
class StepClock {
  step = 0;
  expired: AgentboxError | undefined;
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly template: string, private readonly run: string[], private readonly t: Parameters<StepRunner>[0]['timeouts']) {
    this.arm();
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  describe(): string {
    const s = this.run[this.step - 1] ?? '';
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  }

  enter(step: number): void {
    this.step = step;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    const toDeadline = this.t.deadline - Date.now();
    const whole = toDeadline <= this.t.stepMs;
    this.timer = setTimeout(() => {
      const which = this.step > 0 ? `run step ${this.step} (${JSON.stringify(this.describe())})` : 'copying the recipe files';
      this.expired = new AgentboxError('deadline_exceeded', whole
        ? `template '${this.template}' did not finish building within ${Math.round(this.t.buildMs / 1000)} s (it was at ${which}); ${this.t.hint}`
        : `${which} of template '${this.template}' did not finish within ${Math.round(this.t.stepMs / 1000)} s; ${this.t.hint}`,
      { details: { template: this.template, step: this.step, stepTimeoutMs: this.t.stepMs, buildTimeoutMs: this.t.buildMs } });
      this.ac.abort(this.expired);
    }, Math.max(0, Math.min(this.t.stepMs, toDeadline)));
  }
}
