/** Runs a process with stdin/stdout/stderr pipes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { AgentboxError } from '../../api/errors.ts';
import { ProcessHandle, processEnd, type ProcessSpec } from './handle.ts';
import { killGroup } from './kill.ts';
import type { OsUser } from '../users.ts';
import type { ProcessFactory } from './process-factory.ts';
import type { LaunchedProcess } from './launched-process.ts';

/**
 * How long to wait after exit for pipes to drain. A background child that inherited stdout
 * would otherwise hold the stream (and the end event) open forever; envd's Wait returns once the
 * process exits too.
 */
const DRAIN_GRACE_MS = 200;

export interface SpawnOptions {
  spec: ProcessSpec;
  cwd: string;
  env: Record<string, string>;
  user: OsUser;
  stdin: boolean;
  tag?: string;
  processFactory?: ProcessFactory;
}

export async function spawnWithPipes(opts: SpawnOptions): Promise<ProcessHandle> {
  const launched = await opts.processFactory?.launch({
    cmd: opts.spec.cmd, args: opts.spec.args, env: opts.env, cwd: opts.cwd, user: opts.user, stdin: opts.stdin,
  });
  if (launched) return wire(launched, opts);
  const child = spawn(opts.spec.cmd, opts.spec.args, {
    cwd: opts.cwd,
    env: opts.env,
    uid: opts.user.uid,
    gid: opts.user.gid,
    // Own session and process group, so signals reach the whole tree and the guest's own
    // terminal signals never do.
    detached: true,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new AgentboxError('invalid_argument', `cannot start '${opts.spec.cmd}': ${err.message}`, { cause: err })));
    child.once('spawn', () => resolve(wire(child, opts)));
  });
}

/** Turns a started child (spawned, or started by the process factory) into a handle. */
function wire(child: ChildProcess | LaunchedProcess, opts: SpawnOptions): ProcessHandle {
  // Later 'error' events (a failed kill or stdio teardown) must not crash the guest.
  child.on('error', () => {});
  const pid = child.pid!;
  let end: ReturnType<typeof processEnd> | undefined;
  const handle = new ProcessHandle({
    pid,
    writeStdin(data) {
      if (!child.stdin || child.stdin.writableEnded) throw new AgentboxError('conflict', `stdin of process ${pid} is closed; start it with stdin: true`);
      child.stdin.write(data);
    },
    closeStdin() { child.stdin?.end(); },
    kill(signal) { killGroup(pid, signal); },
    // After exit the rest is drained regardless (see DRAIN_GRACE_MS): at most what the pipes hold.
    pauseOutput() { if (!end) { child.stdout?.pause(); child.stderr?.pause(); } },
    resumeOutput() { child.stdout?.resume(); child.stderr?.resume(); },
  }, opts.spec, false, opts.tag);
  child.stdout!.on('data', (b: Buffer) => handle.emitData('stdout', b));
  child.stderr!.on('data', (b: Buffer) => handle.emitData('stderr', b));
  // A closed stdin (EPIPE after the process exited) is not a guest failure.
  child.stdin?.on('error', () => {});
  child.once('exit', (code, signal) => {
    end = processEnd(code, signal);
    child.stdout?.resume();
    child.stderr?.resume();
    setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      handle.finish(end!);
    }, DRAIN_GRACE_MS).unref();
  });
  child.once('close', (code, signal) => handle.finish(end ?? processEnd(code, signal)));
  return handle;
}
