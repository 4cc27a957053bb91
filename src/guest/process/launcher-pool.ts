/**
 * Launchers waiting to become the next requested program, made by a small factory process
 * (native/launcher.c) that the guest starts once.
 *
 * Under gVisor a fork of the guest (a Node process) costs ~8 ms with its event loop blocked, and
 * a waiting launcher only has to execve (BENCHMARKS.md, issue #13). Forked by the factory, a
 * launcher costs ~2-3 ms of the factory's time, beside the guest: the pool is refilled as soon
 * as the program a launcher became ends, so commands run back to back find one ready too, and a
 * burst larger than the pool waits for the factory's next launchers, which is sooner than the
 * forks of the guest it would otherwise take. Only without a factory (no launcher in the bundle,
 * or one that ended and is not yet started again) does the guest spawn programs itself.
 *
 * The program's stdin, stdout and stderr are pipes the launcher made; the guest opens its ends
 * through /proc/<pid>/fd while the launcher waits, before the exec closes the launcher's copies.
 * The factory is the program's parent, so it reports the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, constants as fsConstants } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { AgentboxError } from '../../api/errors.ts';
import type { OsUser } from '../users.ts';
import { signalName } from './handle.ts';
import { LaunchedProcess, type LauncherPipes } from './launched-process.ts';
import { isRunning } from './proc-stat.ts';

const POOL_SIZE = 2;
/** The factory starts (one fork of the guest) once the cold start (health checks, the ready check) is over. */
const START_AFTER_MS = 250;
/** A launch refills the pool when its program ends, or after this long if it is still running. */
const REFILL_WHILE_RUNNING_MS = 30;
/** A factory that ended is started again after this long. */
const RESTART_AFTER_MS = 1000;
/** How often a program whose factory ended is checked for being gone (nothing reports its exit any more). */
const ORPHAN_POLL_MS = 250;

export interface LaunchRequest {
  cmd: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  user: OsUser;
  stdin: boolean;
}

/** The launcher's request: a 4-byte little-endian length, then NUL-terminated fields (see native/launcher.c). */
export function encodeLaunchRequest(r: LaunchRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  const fields = [String(r.user.uid), String(r.user.gid), r.cwd, r.stdin ? '1' : '0', String(r.args.length + 1), r.cmd, ...r.args, String(env.length), ...env];
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

/** A launcher waiting for its request, with the guest's ends of its pipes. */
interface ReadyLauncher extends LauncherPipes {
  /** The read end of its close-on-exec status pipe. */
  status: Socket;
  /** Set when it ended while still waiting or being handed its request. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

function openPipe(pid: number, fd: number, write: boolean): Socket {
  const own = openSync(`/proc/${pid}/fd/${fd}`, (write ? fsConstants.O_WRONLY : fsConstants.O_RDONLY) | fsConstants.O_NONBLOCK);
  return new Socket({ fd: own, readable: !write, writable: write });
}

function readToEnd(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (b: Buffer) => { text += b.toString(); });
    s.once('end', () => resolve(text));
    s.once('error', () => resolve(text));
  });
}

export class LauncherPool {
  private factory?: ChildProcess;
  private readonly ready: ReadyLauncher[] = [];
  /** Launches waiting for the factory's next launcher; undefined tells them to spawn instead. */
  private readonly waiting: ((l: ReadyLauncher | undefined) => void)[] = [];
  /** Launchers asked of the factory and not yet reported ready (or failed). */
  private asked = 0;
  /** Every launcher or program the factory reported and that has not ended, by pid. */
  private readonly live = new Map<number, ReadyLauncher | LaunchedProcess>();
  private timer?: NodeJS.Timeout;
  private refillTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly path: string) {
    if (!existsSync(path)) { this.closed = true; return; }
    this.startLater(START_AFTER_MS);
  }

  /**
   * Starts `req` in a launcher; undefined when there is no factory to make one (the caller
   * spawns). Resolves once the program has replaced the launcher (its pid is the launcher's).
   */
  async launch(req: LaunchRequest): Promise<LaunchedProcess | undefined> {
    let l = this.ready.shift();
    if (!l) {
      // The first command may come before the factory's planned start.
      this.start();
      if (!this.factory) return undefined;
      const next = new Promise<ReadyLauncher | undefined>((resolve) => this.waiting.push(resolve));
      this.refill();
      l = await next;
      if (!l) return undefined;
    }
    this.refillSoon();
    const status = readToEnd(l.status);
    l.stdin.write(encodeLaunchRequest(req));
    const failure = (await status).trim();
    if (failure) {
      this.retire(l);
      throw new AgentboxError('invalid_argument', `cannot start '${req.cmd}': ${failure.replace(/^\d+ /, '')}`);
    }
    const proc = new LaunchedProcess(l, req.stdin);
    if (l.exit) {
      // It already ended. The caller attaches its listeners once this promise settles, which
      // is after the microtasks and before the next turn of the event loop.
      const { code, signal } = l.exit;
      setImmediate(() => proc.ended(code, signal));
    } else {
      this.live.set(l.pid, proc);
    }
    return proc;
  }

  /** Retires the waiting launchers (EOF on their stdin) and stops the factory (EOF on its commands). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.refillTimer);
    for (const l of this.ready.splice(0)) this.retire(l);
    for (const w of this.waiting.splice(0)) w(undefined);
    this.factory?.stdin?.end();
  }

  private startLater(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.start(), delayMs);
    this.timer.unref();
  }

  private start(): void {
    if (this.closed || this.factory) return;
    clearTimeout(this.timer);
    const factory = spawn(this.path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.factory = factory;
    this.asked = 0;
    // A factory that is missing or not executable never will be; one that fails to start for
    // another reason (EAGAIN at the sandbox's pids limit) is tried again.
    factory.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EACCES') this.closed = true;
      this.factoryGone(factory);
    });
    factory.once('exit', () => this.factoryGone(factory));
    factory.stdin!.on('error', () => {});
    createInterface({ input: factory.stdout! }).on('line', (line) => this.onEvent(line));
    factory.once('spawn', () => this.refill());
  }

  /** Asks the factory for as many launchers as the pool lacks. */
  private refill(): void {
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    const f = this.factory;
    if (this.closed || !f?.stdin?.writable) return;
    const wanted = POOL_SIZE + this.waiting.length - this.ready.length - this.asked;
    if (wanted <= 0) return;
    this.asked += wanted;
    f.stdin.write('+'.repeat(wanted));
  }

  private onEvent(line: string): void {
    const [kind, ...rest] = line.split(' ');
    const n = rest.map(Number);
    if (kind === 'ready') {
      this.asked = Math.max(0, this.asked - 1);
      this.adopt(n[0]!, n[1]!, n[2]!, n[3]!, n[4]!);
    } else if (kind === 'exit') {
      this.onExit(n[0]!, n[1]! >= 0 ? n[1]! : null, n[2] ? (signalName(n[2]) as NodeJS.Signals | undefined) ?? null : null);
    } else if (kind === 'error') {
      // A fork failed (EAGAIN at the pids limit): a waiting command spawns (and gets the same
      // error), and the pool asks again at the next launch.
      this.asked = Math.max(0, this.asked - 1);
      this.waiting.shift()?.(undefined);
    }
  }

  /** Opens the guest's ends of a new launcher's pipes and adds it to the pool. */
  private adopt(pid: number, stdin: number, stdout: number, stderr: number, status: number): void {
    const opened: Socket[] = [];
    try {
      for (const [fd, write] of [[stdin, true], [stdout, false], [stderr, false], [status, false]] as const) opened.push(openPipe(pid, fd, write));
    } catch {
      // It ended before its pipes could be opened (its exit is reported on its own): ask for another.
      for (const s of opened) s.destroy();
      return this.refill();
    }
    const [stdinPipe, stdoutPipe, stderrPipe, statusPipe] = opened as [Socket, Socket, Socket, Socket];
    stdinPipe.on('error', () => {});
    const l: ReadyLauncher = { pid, stdin: stdinPipe, stdout: stdoutPipe, stderr: stderrPipe, status: statusPipe };
    if (this.closed) return this.retire(l);
    this.live.set(pid, l);
    const waiter = this.waiting.shift();
    if (waiter) waiter(l);
    else this.ready.push(l);
  }

  private onExit(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.live.get(pid);
    if (!entry) return;
    this.live.delete(pid);
    if (entry instanceof LaunchedProcess) {
      entry.ended(code, signal);
    } else {
      entry.exit = { code, signal };
      const waiting = this.ready.indexOf(entry);
      // An idle launcher was killed (by a `kill -9 -1` in the sandbox, say).
      if (waiting >= 0) this.retire(this.ready.splice(waiting, 1)[0]!);
    }
    this.refill();
  }

  /**
   * Refills once the program just launched has ended, or has run for a while: a fork in the
   * factory while the program execs slows that exec down (both are work for the sentry), and
   * an agent's next command comes after the end of the last one.
   */
  private refillSoon(): void {
    if (this.refillTimer) return;
    this.refillTimer = setTimeout(() => this.refill(), REFILL_WHILE_RUNNING_MS);
    this.refillTimer.unref();
  }

  private retire(l: ReadyLauncher): void {
    for (const s of [l.stdin, l.stdout, l.stderr, l.status]) s.destroy();
  }

  /**
   * The factory ended (killed inside the sandbox, or at close). Its launchers and programs now
   * belong to the sandbox's init, which reaps them without telling anyone: a program still
   * running is watched until it is gone, and ends with an unknown status.
   */
  private factoryGone(factory: ChildProcess): void {
    if (this.factory !== factory) return;
    this.factory = undefined;
    this.asked = 0;
    for (const l of this.ready.splice(0)) this.retire(l);
    for (const w of this.waiting.splice(0)) w(undefined);
    for (const [pid, entry] of this.live) {
      if (entry instanceof LaunchedProcess) watchUntilGone(pid, () => entry.ended(null, null));
    }
    this.live.clear();
    if (!this.closed) this.startLater(RESTART_AFTER_MS);
  }
}

function watchUntilGone(pid: number, gone: () => void): void {
  const timer = setInterval(() => {
    if (isRunning(pid)) return;
    clearInterval(timer);
    gone();
  }, ORPHAN_POLL_MS);
}
