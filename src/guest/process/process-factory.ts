/**
 * Starts the guest's programs through a small factory process (native/launcher.c) that the
 * guest starts once.
 *
 * Under gVisor a fork of the guest (a Node process) costs ~8 ms with its event loop blocked
 * (BENCHMARKS.md, issue #13). The factory starts a program with vfork semantics instead: the
 * child runs on the factory's memory until its execve, so a start builds one address space, the
 * program's, and no spare process waits between commands. Only without a factory (no launcher
 * in the bundle, or one that ended and is not yet started again) does the guest spawn programs
 * itself.
 *
 * A program's stdin, stdout and stderr are pipes the factory made ahead of time (a slot); the
 * guest opens its ends through /proc/<factory>/fd before it asks for a start on them, so the
 * start itself is one request and one reply. The factory is the program's parent, so it
 * reports the exit.
 *
 * The factory also opens files for writing as a user (openAsUser), the guest reopening them the
 * same way: the guest switching its own ids costs 1-2 ms per set*id call under gVisor, since
 * glibc applies each to all of the guest's threads, and blocks its event loop meanwhile.
 *
 * Opening /proc/<factory>/fd works only while the factory is dumpable, and a change of effective
 * ids makes it non-dumpable until it sets itself back: during an "open" as a user, and during a
 * "run" (the vfork child's setuid runs on the factory's memory, and dumpability belongs to the
 * memory). The factory answers those two requests only once it is dumpable again, and handles
 * requests in order. So the guest opens there only when every run and open it wrote has been
 * answered, and writes no new one until those opens are done (a reopen raced the next file's
 * open otherwise: EACCES).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { AgentboxError, type ErrorCode } from '../../api/errors.ts';
import type { GuestLog } from '../log.ts';
import type { OsUser } from '../users.ts';
import { signalName } from './handle.ts';
import { LaunchedProcess, type ProgramPipes } from './launched-process.ts';
import { isRunning } from './proc-stat.ts';
import { fsError } from '../errors.ts';

/** A file the factory opened as a user (openAsUser), reopened by the guest. */
export interface OpenedFile {
  /** The guest's own descriptor, open for writing. */
  fd: number;
  /** Whether the requested metadata was written (false: none asked, or the file system keeps none). */
  metadataKept: boolean;
}

/** The answer to an "open": the file reopened here, why the factory failed, or undefined to switch ids instead. */
type FileAnswer = OpenedFile | { errno: number; message: string } | undefined;

/** Node's name of an errno (EACCES…), so a failure the factory reports maps like Node's own (fsError). */
const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** Slots kept ready: a burst larger than this waits for the factory's next ones (no process, a few pipes each). */
const SLOTS = 2;
/** The factory starts (one fork of the guest) once the cold start (health checks, the ready check) is over. */
const START_AFTER_MS = 250;
/** A start asks for the slot it used up when its program ends, or after this long if it still runs. */
const ASK_WHILE_RUNNING_MS = 30;
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

/** One request to the factory: a 4-byte little-endian length, then NUL-terminated fields (see native/launcher.c). */
function frame(fields: string[]): Buffer {
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

export function encodeRunRequest(slot: number, r: LaunchRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  return frame(['run', String(slot), String(r.user.uid), String(r.user.gid), r.cwd, r.stdin ? '1' : '0', String(r.args.length + 1), r.cmd, ...r.args, String(env.length), ...env]);
}

/** Pipes made ahead of time for a program, with the guest's ends open. */
interface Slot { id: number; pipes: Omit<ProgramPipes, 'pid'> }

type StartResult = { proc: LaunchedProcess } | { code: ErrorCode; message: string };

/** A start refused with EAGAIN met the sandbox's process limit (a fork bomb's symptom), not a wrong request. */
const { EAGAIN } = osConstants.errno;

function openPipe(factoryPid: number, fd: number, write: boolean): Socket {
  const own = openSync(`/proc/${factoryPid}/fd/${fd}`, (write ? fsConstants.O_WRONLY : fsConstants.O_RDONLY) | fsConstants.O_NONBLOCK);
  return new Socket({ fd: own, readable: !write, writable: write });
}

export class ProcessFactory {
  private factory?: ChildProcess;
  private readonly slots: Slot[] = [];
  /** Launches waiting for the factory's next slot; undefined tells them to spawn instead. */
  private readonly waiting: ((s: Slot | undefined) => void)[] = [];
  /** Slots asked of the factory and not yet reported (or failed). */
  private asked = 0;
  /** Starts asked for and not yet answered, by slot. */
  private readonly starting = new Map<number, { slot: Slot; keepStdin: boolean; done: (r: StartResult) => void }>();
  /** Files asked of the factory and not yet answered, by request id; undefined = no factory. */
  private readonly opening = new Map<number, (answer: FileAnswer) => void>();
  private lastFileRequest = 0;
  /** Runs and opens written to the factory and not yet answered: it may be switching ids. */
  private switching = 0;
  /** Opens of /proc/<factory>/fd waiting for `switching` to reach 0. */
  private readonly procOpens: (() => void)[] = [];
  /** Runs and opens held back while opens of /proc/<factory>/fd wait. */
  private readonly held: Buffer[] = [];
  /** Programs the factory started and that have not ended, by pid. */
  private readonly live = new Map<number, LaunchedProcess>();
  private timer?: NodeJS.Timeout;
  private askTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly path: string, private readonly log?: GuestLog) {
    if (!existsSync(path)) { this.closed = true; return; }
    this.startLater(START_AFTER_MS);
  }

  /**
   * Starts `req`; undefined when there is no factory to start it (the caller spawns). Resolves
   * once the program's execve succeeded.
   */
  async launch(req: LaunchRequest): Promise<LaunchedProcess | undefined> {
    let slot = this.slots.shift();
    if (!slot) {
      // The first command may come before the factory's planned start.
      this.start();
      if (!this.factory) return undefined;
      const next = new Promise<Slot | undefined>((resolve) => this.waiting.push(resolve));
      this.askForSlots();
      slot = await next;
      if (!slot) return undefined;
    }
    const factory = this.factory;
    if (!factory?.stdin?.writable) { this.discard(slot); return undefined; }
    const answer = new Promise<StartResult>((done) => this.starting.set(slot.id, { slot, keepStdin: req.stdin, done }));
    this.sendSwitching(encodeRunRequest(slot.id, req));
    this.askForSlotsSoon();
    const result = await answer;
    if ('proc' in result) return result.proc;
    this.discard(slot);
    throw new AgentboxError(result.code, `cannot start '${req.cmd}': ${result.message}`);
  }

  /**
   * Opens `path` for writing as `user` (uid and gid), creating its parents, and replaces the
   * file's user.e2b.* metadata with `metadata` when given, all with the user's permissions. A
   * failure throws fsError's AgentboxError (permission_denied for EACCES…). Undefined when there
   * is no factory: the caller switches ids itself.
   */
  async openAsUser(user: OsUser, path: string, metadata?: Record<string, string>): Promise<OpenedFile | undefined> {
    // A NUL would split the request's fields: the caller's own open refuses such a path.
    if (path.includes('\0')) return undefined;
    this.start();
    const factory = this.factory;
    if (!factory?.stdin?.writable || factory.pid === undefined) return undefined;
    const id = ++this.lastFileRequest;
    const answer = new Promise<FileAnswer>((done) => this.opening.set(id, done));
    const pairs = metadata ? [String(Object.keys(metadata).length), ...Object.entries(metadata).flat()] : ['-'];
    this.sendSwitching(frame(['open', String(id), String(user.uid), String(user.gid), path, ...pairs]));
    const opened = await answer;
    if (opened && 'errno' in opened) throw fsError({ code: ERRNO_NAMES.get(opened.errno) ?? 'EIO', message: opened.message }, path);
    return opened;
  }

  /** Writes a run or an open, or holds it back while opens of /proc/<factory>/fd wait. */
  private sendSwitching(request: Buffer): void {
    if (this.procOpens.length > 0) { this.held.push(request); return; }
    this.switching++;
    this.factory!.stdin!.write(request);
  }

  /** Runs `open` (of /proc/<factory>/fd) once the factory cannot be switching ids. */
  private whenDumpable(open: () => void): void {
    this.procOpens.push(open);
    this.release();
  }

  /** Once no run or open is unanswered: the waiting opens of /proc/<factory>/fd, then what they held back. */
  private release(): void {
    if (this.switching > 0) return;
    for (const open of this.procOpens.splice(0)) open();
    for (const request of this.held.splice(0)) this.sendSwitching(request);
  }

  /** Reopens the file the factory opened for request `id` and lets the factory close its own. */
  private reopen(factory: ChildProcess, id: number, fd: number, metadataKept: boolean): void {
    const done = this.opening.get(id);
    this.opening.delete(id);
    let opened: FileAnswer;
    try {
      opened = { fd: openSync(`/proc/${factory.pid}/fd/${fd}`, fsConstants.O_WRONLY), metadataKept };
    } catch (err) {
      // Not expected (see the top of this file): the caller opens the file with its own switch.
      this.log?.error('cannot reopen a file the process factory opened', { error: (err as Error).message });
      opened = undefined;
    }
    factory.stdin?.write(frame(['close', String(fd)]));
    done?.(opened);
  }

  /** Stops the factory (EOF on its requests) and closes the pipes of unused slots. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.askTimer);
    for (const s of this.slots.splice(0)) this.discard(s);
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
    createInterface({ input: factory.stdout! }).on('line', (line) => this.onEvent(factory, line));
    factory.once('spawn', () => this.askForSlots());
  }

  /**
   * Asks for the slot a start used up once its program ends, or has run for a while: making it
   * (in the factory) and opening its pipes (here) is work for the sentry and for this event loop
   * while the program starts. An agent's next command comes after the end of the last one.
   */
  private askForSlotsSoon(): void {
    if (this.askTimer) return;
    this.askTimer = setTimeout(() => this.askForSlots(), ASK_WHILE_RUNNING_MS);
    this.askTimer.unref();
  }

  /** Asks the factory for as many slots as are missing. */
  private askForSlots(): void {
    clearTimeout(this.askTimer);
    this.askTimer = undefined;
    const f = this.factory;
    if (this.closed || !f?.stdin?.writable) return;
    const wanted = SLOTS + this.waiting.length - this.slots.length - this.asked;
    if (wanted <= 0) return;
    this.asked += wanted;
    f.stdin.write(Buffer.concat(Array.from({ length: wanted }, () => frame(['slot']))));
  }

  private onEvent(factory: ChildProcess, line: string): void {
    if (factory !== this.factory) return;
    const [kind, ...rest] = line.split(' ');
    const n = rest.map(Number);
    if (kind === 'slot') {
      this.asked = Math.max(0, this.asked - 1);
      this.whenDumpable(() => this.adopt(factory.pid!, n[0]!, n[1]!, n[2]!, n[3]!));
    } else if (kind === 'started' || kind === 'failed') {
      this.switching--;
      const pending = this.starting.get(n[0]!);
      this.starting.delete(n[0]!);
      if (pending && kind === 'failed') pending.done({ code: n[1] === EAGAIN ? 'resource_exhausted' : 'invalid_argument', message: rest.slice(2).join(' ') });
      else if (pending) {
        // Registered before any later line (its exit may follow in the same read) is handled.
        const proc = new LaunchedProcess({ pid: n[1]!, ...pending.slot.pipes }, pending.keepStdin);
        this.live.set(proc.pid, proc);
        pending.done({ proc });
      }
      this.release();
    } else if (kind === 'exit') {
      const proc = this.live.get(n[0]!);
      if (!proc) return;
      this.live.delete(n[0]!);
      const code = n[1]! >= 0 ? n[1]! : null;
      const signal = n[2] ? (signalName(n[2]) as NodeJS.Signals | undefined) ?? null : null;
      // After the launch's caller has attached its listeners (it resumes in a microtask).
      setImmediate(() => proc.ended(code, signal));
      this.askForSlots();
    } else if (kind === 'file') {
      this.switching--;
      this.whenDumpable(() => this.reopen(factory, n[0]!, n[1]!, n[2] === 1));
    } else if (kind === 'file-failed') {
      this.switching--;
      this.opening.get(n[0]!)?.({ errno: n[1]!, message: rest.slice(2).join(' ') });
      this.opening.delete(n[0]!);
      this.release();
    } else if (kind === 'error') {
      // A slot could not be made (out of descriptors): a waiting command spawns (and gets the
      // same error), and the next launch asks again.
      this.asked = Math.max(0, this.asked - 1);
      this.waiting.shift()?.(undefined);
    }
  }

  /** Opens the guest's ends of a new slot's pipes and hands it to a waiting launch or keeps it. */
  private adopt(factoryPid: number, id: number, stdin: number, stdout: number, stderr: number): void {
    const opened: Socket[] = [];
    try {
      for (const [fd, write] of [[stdin, true], [stdout, false], [stderr, false]] as const) opened.push(openPipe(factoryPid, fd, write));
    } catch (err) {
      // Not expected while the factory runs (if it ended, its exit is handled on its own). A
      // waiting command spawns rather than wait for a slot that may never open.
      for (const s of opened) s.destroy();
      this.log?.error('cannot open the pipes of the process factory; commands start without it', { error: (err as Error).message });
      this.factory?.stdin?.write(frame(['drop', String(id)]));
      this.waiting.shift()?.(undefined);
      return;
    }
    const [stdinPipe, stdoutPipe, stderrPipe] = opened as [Socket, Socket, Socket];
    stdinPipe.on('error', () => {});
    const slot: Slot = { id, pipes: { stdin: stdinPipe, stdout: stdoutPipe, stderr: stderrPipe } };
    if (this.closed) return this.discard(slot);
    const waiter = this.waiting.shift();
    if (waiter) waiter(slot);
    else this.slots.push(slot);
  }

  private discard(slot: Slot): void {
    for (const s of [slot.pipes.stdin, slot.pipes.stdout, slot.pipes.stderr]) s.destroy();
  }

  /**
   * The factory ended (killed inside the sandbox, or at close). Its programs now belong to the
   * sandbox's init, which reaps them without telling anyone: a program still running is watched
   * until it is gone, and ends with an unknown status.
   */
  private factoryGone(factory: ChildProcess): void {
    if (this.factory !== factory) return;
    this.factory = undefined;
    this.asked = 0;
    // What waited for the old factory to be dumpable: the answers below settle its callers.
    this.switching = 0;
    this.procOpens.length = 0;
    this.held.length = 0;
    for (const s of this.slots.splice(0)) this.discard(s);
    for (const w of this.waiting.splice(0)) w(undefined);
    // Whether these started is unknown: starting them again could run a command twice.
    for (const { done } of this.starting.values()) done({ code: 'unavailable', message: 'the process factory ended before it answered; try again' });
    this.starting.clear();
    // Opening a file twice is harmless: the caller does it itself.
    for (const done of this.opening.values()) done(undefined);
    this.opening.clear();
    for (const [pid, proc] of this.live) watchUntilGone(pid, () => proc.ended(null, null));
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
