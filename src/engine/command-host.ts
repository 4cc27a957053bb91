/**
 * Host tools started by a small process of their own (the command host), not by the engine.
 *
 * Node 20's libuv starts a child with fork(), which copies the page tables of the whole parent
 * while its event loop waits: 2.5-8 ms per tool for an engine of 133 MiB RSS, 19 ms for a
 * process holding 300 MiB (BENCHMARKS.md, issue #13). A create runs six to eight tools (mount,
 * cp, ip, nft, runsc…), some of them side by side, and each fork held up the others and every
 * API call meanwhile. The command host is a bare Node process (`node -e`, no engine code
 * loaded), so its forks are ~1 ms and block nothing of the engine's. The engine sends it one
 * message per tool over an IPC channel and gets back the output and the exit status.
 *
 * Its code (hostMain, runTool) is sent as source text, so it runs from a checkout (tsx) and from
 * the bundled build alike with no file of its own; those two use only their parameters and
 * globals. runTool is also what runs a tool in the engine's process when there is no host.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

/** A tool to run, as runCommand was asked (command.ts). */
export interface ToolRequest {
  file: string;
  args: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  input: string | Uint8Array;
  timeoutMs?: number;
  /** The host sends output as it arrives (a progress display), besides collecting it. */
  stream?: boolean;
  /** Append stdout and stderr to this file instead of collecting them. */
  outputFile?: string;
}

interface HostRunRequest extends ToolRequest { type: 'run'; id: number }

interface HostKillRequest { type: 'kill'; id: number }

type HostReply =
  | { type: 'output'; id: number; chunk: string }
  | { type: 'done'; id: number; outcome: CommandOutcome };

/** How a tool ended: its exit, or why it could not run. */
export type CommandOutcome =
  | { ended: true; code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: Buffer }
  | { ended: false; code?: string; message: string };

/**
 * Runs one tool and collects its output. Self-contained, since its source also runs in the
 * command host: it reaches its modules through `load` only.
 */
function runTool(load: NodeJS.Require, req: ToolRequest, onOutput?: (chunk: string) => void, signal?: AbortSignal): Promise<CommandOutcome> {
  const { spawn: start } = load('node:child_process') as typeof import('node:child_process');
  const { openSync, closeSync } = load('node:fs') as typeof import('node:fs');
  return new Promise((resolve) => {
    let fd: number | undefined;
    let child: import('node:child_process').ChildProcess;
    try {
      fd = req.outputFile === undefined ? undefined : openSync(req.outputFile, 'a');
      child = start(req.file, req.args, {
        cwd: req.cwd, env: req.env, stdio: ['pipe', fd ?? 'pipe', fd ?? 'pipe'], timeout: req.timeoutMs, killSignal: 'SIGKILL', signal,
      });
    } catch (e) {
      return resolve({ ended: false, code: (e as NodeJS.ErrnoException).code, message: (e as Error).message });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collect = (into: Buffer[]) => (b: Buffer) => {
      into.push(b);
      onOutput?.(b.toString());
    };
    child.stdout?.on('data', collect(out));
    child.stderr?.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ ended: false, code: e.code, message: e.message }));
    child.on('close', (code, sig) => resolve({ ended: true, code, signal: sig, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    // A tool that fails before reading its input closes the pipe; its exit status tells why.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(req.input);
  });
}

/** The command host's main function, run in its own process as `(source)(require, runTool)`. */
function hostMain(load: NodeJS.Require, run: typeof runTool): void {
  // What ps and top show, rather than this source text on the command line.
  process.title = 'agentbox command host';
  const running = new Map<number, AbortController>();
  const reply = (m: HostReply): void => { process.send?.(m); };
  process.on('message', (m: HostRunRequest | HostKillRequest) => {
    if (m.type === 'kill') {
      running.get(m.id)?.abort();
      return;
    }
    const abort = new AbortController();
    running.set(m.id, abort);
    const onOutput = m.stream ? (chunk: string) => reply({ type: 'output', id: m.id, chunk }) : undefined;
    void run(load, m, onOutput, abort.signal).then((outcome) => {
      running.delete(m.id);
      reply({ type: 'done', id: m.id, outcome });
    });
  });
  // The engine went away: what runs goes on, as it would have as the engine's own child.
  process.on('disconnect', () => process.exit(0));
}

/** Runs a tool in this process: what the command host does, for when there is none. */
export function runHere(req: ToolRequest, onOutput?: (chunk: string) => void, signal?: AbortSignal): Promise<CommandOutcome> {
  return runTool(localRequire, req, onOutput, signal);
}

const localRequire = createRequire(import.meta.url);

interface Pending {
  done: (o: CommandOutcome) => void;
  onOutput?: (chunk: string) => void;
  /** The request and its caller's abort signal: run here if the host turns out not to work. */
  request: HostRunRequest;
  signal?: AbortSignal;
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class CommandHost {
  private child?: ChildProcess;
  /** The running host has answered: it works, and a tool it was sent may have run. */
  private answered = false;
  /** The host could not be started at all: everything runs in the caller's process. */
  private unusable = false;
  /** Stopped: the host goes once its last tool is done, and takes no new one. */
  private stopping = false;
  private lastId = 0;
  private readonly pending = new Map<number, Pending>();

  /** `nodePath`: the Node binary the host runs on (this process's own). */
  constructor(private readonly nodePath = process.execPath) {}

  /** The host's process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Runs a tool in the host; undefined when there is no host to run it (the caller spawns it
   * itself). An aborted `signal` kills the tool and settles at once.
   */
  run(req: ToolRequest, onOutput?: (chunk: string) => void, signal?: AbortSignal): Promise<CommandOutcome> | undefined {
    if (this.unusable || this.stopping) return undefined;
    const child = this.child ?? this.start();
    if (!child) return undefined;
    const id = ++this.lastId;
    const request: HostRunRequest = { type: 'run', id, ...req, stream: onOutput !== undefined };
    return new Promise<CommandOutcome>((resolve) => {
      const onAbort = () => {
        this.send({ type: 'kill', id });
        settle({ ended: false, code: 'ABORT_ERR', message: 'The operation was aborted' });
      };
      const settle = (o: CommandOutcome) => {
        if (!this.pending.delete(id)) return;
        signal?.removeEventListener('abort', onAbort);
        this.holdOpen();
        this.disconnectWhenIdle();
        resolve(o);
      };
      if (signal?.aborted) return resolve({ ended: false, code: 'ABORT_ERR', message: 'The operation was aborted' });
      this.pending.set(id, { done: settle, onOutput, request, signal });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.holdOpen();
      this.send(request);
    });
  }

  /** Starts the host ahead of the first tool (a Node start takes tens of milliseconds). */
  warm(): void {
    if (!this.unusable && !this.child) this.start();
  }

  /** Lets the host go once the tools it runs are done (it exits when its IPC channel closes). */
  stop(): void {
    this.stopping = true;
    this.disconnectWhenIdle();
  }

  private disconnectWhenIdle(): void {
    if (this.stopping && this.pending.size === 0 && this.child?.connected) this.child.disconnect();
  }

  private send(m: HostRunRequest | HostKillRequest): void {
    // A host that ended meanwhile (EPIPE): its exit or error handler settles what was pending.
    if (this.child?.connected) this.child.send(m, () => undefined);
  }

  /** The engine's process stays up while a tool runs (as with a child of its own), not for an idle host. */
  private holdOpen(): void {
    const child = this.child;
    if (!child) return;
    if (this.pending.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }

  private start(): ChildProcess | undefined {
    let child: ChildProcess;
    try {
      // esbuild's keepNames (tsx, the bundle) wraps functions in __name(fn, "name") calls.
      const source = `const __name = (fn) => fn; (${hostMain.toString()})(require, ${runTool.toString()})`;
      child = spawn(this.nodePath, ['-e', source], {
        // Bare: no loader or flags of the engine's (NODE_OPTIONS may load tsx).
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
    } catch {
      this.unusable = true;
      return undefined;
    }
    this.child = child;
    this.answered = false;
    child.on('message', (m: HostReply) => this.onReply(m));
    child.on('error', () => this.ended(child));
    child.once('exit', () => this.ended(child));
    this.holdOpen();
    return child;
  }

  private onReply(m: HostReply): void {
    this.answered = true;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'output') return p.onOutput?.(m.chunk);
    // Buffers cross the channel as plain Uint8Arrays.
    const o = m.outcome;
    p.done(o.ended ? { ...o, stdout: asBuffer(o.stdout), stderr: asBuffer(o.stderr) } : o);
  }

  /**
   * The host ended. One that never answered did not work (it could not start, or its code
   * failed): every tool runs here from now on, those it was sent too. The tools of one that
   * worked may have run, so they fail rather than run twice, and the next tool starts a new host.
   */
  private ended(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    const neverWorked = !this.answered;
    if (neverWorked) this.unusable = true;
    for (const p of [...this.pending.values()]) {
      if (neverWorked) void runHere(p.request, p.onOutput, p.signal).then(p.done);
      else p.done({ ended: false, code: 'EPIPE', message: `the engine's command host ended while ${p.request.file} ran; it may or may not have finished` });
    }
  }
}

