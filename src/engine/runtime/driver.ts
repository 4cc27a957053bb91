/**
 * Drives one OCI runtime binary (runsc or runc) for the engine. What differs between runtime
 * classes (flags, what pause means) comes from the class's own module (runtime-class.ts);
 * everything else is the OCI runtime CLI they share.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { runCommand } from '../command.ts';
import type { PauseMode, RuntimeClassName } from '../types.ts';
import { runtimeClass } from './classes.ts';
import type { DriverSetup, GvisorPlatform, RuntimeClass } from './runtime-class.ts';
import { sandboxIdMapping, type IdMapping } from './userns.ts';
import { strayRuntimeCommands, type HostProcess } from './host-processes.ts';

export type { GvisorPlatform } from './runtime-class.ts';

/** The longest a `runsc checkpoint` may take (recovery waits as long for one a crash left running). */
export const CHECKPOINT_TIMEOUT_MS = 600_000;

export interface RuntimeDriverOptions extends DriverSetup {
  name: RuntimeClassName;
  /** Verified binary from the asset cache. */
  binary: string;
  binarySha256: string;
  /** State directory (`--root`) private to this engine. */
  stateDir: string;
}

/** How a sandbox's root filesystem and spec are set up for a runtime that uses user namespaces. */
export interface UsernsSetup {
  helper: string;
  mapping: IdMapping;
  apparmorProfile?: string;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

export class RuntimeDriver {
  readonly name: RuntimeClassName;
  readonly binary: string;
  readonly binarySha256: string;
  private readonly runtimeClass: RuntimeClass;
  readonly pauseMode: PauseMode;
  private readonly stateDir: string;
  private readonly setup: DriverSetup;

  constructor(opts: RuntimeDriverOptions) {
    const { name, binary, binarySha256, stateDir, ...setup } = opts;
    this.name = name;
    this.runtimeClass = runtimeClass(name);
    this.binary = binary;
    this.binarySha256 = binarySha256;
    this.stateDir = stateDir;
    this.setup = setup;
    this.pauseMode = this.runtimeClass.pauseMode;
  }

  get platform(): GvisorPlatform | undefined { return this.setup.platform; }
  get systrapFastPath(): DriverSetup['systrapFastPath'] { return this.setup.systrapFastPath; }
  get apparmorProfile(): string | undefined { return this.setup.apparmorProfile; }

  /** Whether this binary can checkpoint and restore (snapshots and forks need it). */
  get canCheckpoint(): boolean {
    return this.pauseMode === 'checkpoint';
  }

  /**
   * runc: the sandbox in address slot `slot` runs in a user namespace of its own id range
   * (userns.ts). gVisor: undefined; the sentry is the boundary and runs as host root.
   */
  userns(slot: number): UsernsSetup | undefined {
    if (!this.setup.idmapHelper) return undefined;
    return { helper: this.setup.idmapHelper, mapping: sandboxIdMapping(slot), apparmorProfile: this.apparmorProfile };
  }

  /** This runtime's commands on this engine's state that are still running (see host-processes.ts). */
  strayCommands(procs: HostProcess[]): number[] {
    return strayRuntimeCommands(this.binary, this.stateDir, procs);
  }

  /** Global flags before the subcommand. */
  private globals(): string[] {
    return this.runtimeClass.globalFlags(this.stateDir, this.setup);
  }

  private cmd(args: string[], timeoutMs = 60_000) {
    return runCommand(this.binary, [...this.globals(), ...args], { timeoutMs });
  }

  /**
   * Creates and starts the container detached. Its stdio goes to `logFile` (a pipe would keep
   * our end open for the container's whole life).
   */
  async run(id: string, bundle: string, logFile: string): Promise<number> {
    return this.detached(['run', '--detach', '--bundle', bundle], id, logFile);
  }

  /**
   * Restores a checkpoint as container `id`; returns its host PID. With `background`, runsc
   * returns once the sandbox runs and loads the rest of its memory pages while it does (needs
   * an uncompressed checkpoint, which is all we write): a resume of 512 MiB touched took
   * 1.1-1.4 s instead of 1.4-2.8 s (BENCHMARKS.md, issue #13).
   */
  async restore(id: string, bundle: string, imageDir: string, logFile: string, opts: { background?: boolean } = {}): Promise<number> {
    if (!this.canCheckpoint) throw this.noCheckpoint();
    const background = opts.background ? ['--background'] : [];
    return this.detached(['restore', '--detach', ...background, '--bundle', bundle, '--image-path', imageDir], id, logFile);
  }

  /** Runs a detached create+start (run or restore) and returns the container's host PID. */
  private async detached(args: string[], id: string, logFile: string): Promise<number> {
    // The PID comes from --pid-file: one `state` call less on every start and resume.
    const pidFile = `${logFile}.pid`;
    await rm(pidFile, { force: true });
    await this.spawnDetached([...args, '--pid-file', pidFile, id], logFile);
    return Number((await readFile(pidFile, 'utf8')).trim());
  }

  private async spawnDetached(args: string[], logFile: string): Promise<void> {
    try {
      await runCommand(this.binary, [...this.globals(), ...args], { outputFile: logFile });
    } catch (err) {
      // It ran and failed: its reasons are in the log, not in the collected output.
      const exitCode = err instanceof AgentboxError ? err.details?.exitCode : undefined;
      if (exitCode === undefined) throw err;
      const tail = await readFile(logFile, 'utf8').then((s) => s.split('\n').slice(-12).join('\n'), () => '');
      throw new AgentboxError('internal', `${this.name} ${args[0]} of sandbox failed (exit ${String(exitCode)}): ${tail}`, { cause: err });
    }
  }

  /**
   * Runs a container to completion in the foreground, streaming its output (template builds).
   * `signal` bounds it: the caller aborts on its own timeout, which kills the runtime process
   * (the caller then deletes the container, which stops what is left of it).
   */
  async runToCompletion(id: string, bundle: string, onOutput: (chunk: string) => void, signal?: AbortSignal): Promise<void> {
    await runCommand(this.binary, [...this.globals(), 'run', '--bundle', bundle, id], { onOutput, signal });
  }

  async status(id: string): Promise<{ status: ContainerStatus; pid: number } | undefined> {
    try {
      const { stdout } = await this.cmd(['state', id], 10_000);
      const s = JSON.parse(stdout) as { status: ContainerStatus; pid: number };
      return { status: s.status, pid: s.pid };
    } catch {
      return undefined;
    }
  }

  /**
   * With `direct`, the memory pages are written with O_DIRECT: through the page cache they are
   * charged to the sandbox's own memory cgroup, already holding that memory, and the write
   * crawls under reclaim (512 MiB touched: 0.6 s direct, 3.3 s buffered, BENCHMARKS.md). Only
   * for a pause: its images are on an ext4 disk image, which takes O_DIRECT, and nothing reads
   * them before the resume.
   */
  async checkpoint(id: string, imageDir: string, opts: { direct?: boolean } = {}): Promise<void> {
    if (!this.canCheckpoint) throw this.noCheckpoint();
    const direct = opts.direct ? ['--direct'] : [];
    await this.cmd(['checkpoint', '--image-path', imageDir, '--exclude-committed-zero-pages', ...direct, id], CHECKPOINT_TIMEOUT_MS);
  }

  async freeze(id: string): Promise<void> {
    await this.cmd(['pause', id]);
  }

  async thaw(id: string): Promise<void> {
    await this.cmd(['resume', id]);
  }

  /** Removes the container whatever its state; unknown ids are not an error. */
  async delete(id: string): Promise<void> {
    await this.cmd(['delete', '--force', id]).catch(async (err: AgentboxError) => {
      if ((await this.status(id)) !== undefined) throw err;
    });
  }

  /**
   * runsc bind-mounts a namespace at `<state dir>/null-netns`, once per runsc process that needed
   * it. Removes them all so the state dir can be deleted; only when no sandbox of it is left.
   */
  async releaseStateDir(): Promise<void> {
    const target = join(this.stateDir, 'null-netns');
    for (let i = 0; i < 64; i++) {
      if (!(await runCommand('umount', ['-l', target]).then(() => true, () => false))) return;
    }
  }

  /** `<runtime> exec`: used only as a same-run baseline in benchmarks and for diagnostics. */
  async exec(id: string, argv: string[]): Promise<string> {
    return (await this.cmd(['exec', id, ...argv])).stdout;
  }

  private noCheckpoint(): AgentboxError {
    return new AgentboxError('not_supported',
      `the ${this.name} runtime class cannot checkpoint on this host (Debian's CRIU fails on this kernel); ` +
      'its sandboxes pause by freezing and keep their memory. Use the gvisor runtime class for checkpoint/restore.');
  }
}
