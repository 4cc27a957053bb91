/**
 * Processes started ahead of time that become the next requested program (native/launcher.c).
 * Under gVisor, forking the guest (a Node process) costs ~9 ms of a `true` exec's ~13 ms; a
 * waiting launcher only has to execve (measured 4.6 ms vs 9.2 ms per process in a sandbox).
 *
 * Refills happen only after the guest has been idle for a moment: spawning a launcher is
 * itself a fork of the guest and blocks its event loop for those ~9 ms, which must not land in
 * the middle of a request. Back-to-back execs therefore drain the pool and fall back to a plain
 * spawn; an agent's usual pace (a command, then thinking) always finds a launcher ready.
 * (Refilling at once when a launch took the last launcher was tried: back to back on a quiet
 * machine it gave 69-76 ms per exec against 67 ms without, since each exec still pays one fork
 * of the guest, only later; BENCHMARKS.md, issue #13.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AgentboxError } from '../../api/errors.ts';
import type { OsUser } from '../users.ts';

const POOL_SIZE = 2;
const IDLE_BEFORE_REFILL_MS = 30;
/** The first launchers wait until the cold start (health checks, the ready check) is over. */
const FIRST_REFILL_AFTER_MS = 250;

export interface LaunchRequest {
  cmd: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  user: OsUser;
  stdin: boolean;
}

/** The launcher's request: NUL-terminated fields (see native/launcher.c). */
export function encodeLaunchRequest(r: LaunchRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  const fields = [String(r.user.uid), String(r.user.gid), r.cwd, r.stdin ? '1' : '0', String(r.args.length + 1), r.cmd, ...r.args, String(env.length), ...env];
  return Buffer.from(fields.map((f) => `${f}\0`).join(''));
}

export class LauncherPool {
  private readonly ready: ChildProcess[] = [];
  private timer?: NodeJS.Timeout;
  /** Launchers spawned and not yet ready: a refill counts them against POOL_SIZE. */
  private starting = 0;
  private disabled = false;

  constructor(private readonly path: string) {
    this.disabled = !existsSync(path);
    this.scheduleRefill(FIRST_REFILL_AFTER_MS);
  }

  /**
   * Starts `req` in a waiting launcher; undefined when none is ready (the caller spawns).
   * Resolves once the program has replaced the launcher (its PID is the launcher's).
   */
  async launch(req: LaunchRequest): Promise<ChildProcess | undefined> {
    const child = this.ready.shift();
    this.scheduleRefill();
    if (!child) return undefined;
    const status = new Promise<string>((resolve) => {
      let text = '';
      const s = child.stdio[4]!;
      s.on('data', (b: Buffer) => { text += b.toString(); });
      s.once('end', () => resolve(text));
      s.once('error', () => resolve(text));
    });
    (child.stdio[3] as NodeJS.WritableStream).end(encodeLaunchRequest(req));
    const failure = (await status).trim();
    if (failure) {
      const message = failure.replace(/^\d+ /, '');
      throw new AgentboxError('invalid_argument', `cannot start '${req.cmd}': ${message}`);
    }
    if (!req.stdin) child.stdin?.end();
    return child;
  }

  private scheduleRefill(delayMs = IDLE_BEFORE_REFILL_MS): void {
    if (this.disabled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refill(), delayMs);
    this.timer.unref();
  }

  private refill(): void {
    if (this.disabled || this.ready.length + this.starting >= POOL_SIZE) return;
    this.starting++;
    const child = spawn(this.path, [], { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    // A launcher that is missing or not executable never will be; any other failure (EAGAIN at
    // the sandbox's pids limit) is retried at the next refill.
    child.once('error', (err: NodeJS.ErrnoException) => {
      this.starting--;
      if (err.code === 'ENOENT' || err.code === 'EACCES') this.disabled = true;
    });
    child.once('spawn', () => {
      this.starting--;
      // Closed while it started: retire it as close() retires the waiting ones.
      if (this.disabled) return void (child.stdio[3] as NodeJS.WritableStream).end();
      this.ready.push(child);
      this.scheduleRefill();
    });
  }

  /** Retires the waiting launchers (an empty request makes them exit). */
  close(): void {
    clearTimeout(this.timer);
    this.disabled = true;
    for (const c of this.ready.splice(0)) (c.stdio[3] as NodeJS.WritableStream).end();
  }
}
