/**
 * One PTY session of execd (upstream `components/execd/PTY.md`): a shell that outlives its
 * WebSocket clients. POST /pty only records it; the first client starts the process, on a
 * pseudo-terminal (`pty=1`, the default) or on pipes with stdout and stderr apart (`pty=0`).
 * Output goes to the one attached client and into a bounded history (pty-output.ts) that a
 * reconnecting client replays with `since=`. One client at a time: a second is refused unless it
 * takes over, which closes the first with 4001 TAKEN_OVER.
 */
import type { WebSocket } from 'ws';
import type { ProcessHandle } from '../process/handle.ts';
import type { OsUser } from '../users.ts';
import type { ExecdDeps } from './deps.ts';
import { PtyOutput } from './pty-output.ts';
import { signalSession } from './pty-signal.ts';
import { launchShell } from './shell.ts';

/** First byte of every binary frame: which stream it carries. */
export const PTY_CHANNEL = { stdin: 0x00, stdout: 0x01, stderr: 0x02, replay: 0x03 } as const;
export const TAKEN_OVER_CLOSE = { code: 4001, reason: 'TAKEN_OVER' } as const;

export interface PtySessionSpec {
  id: string;
  user: OsUser;
  cwd?: string;
  /** A shell line to run instead of an interactive shell. */
  command?: string;
}

/**
 * Flow control toward a slow client: past this many bytes waiting in the WebSocket's send buffer
 * the process's output is held (ProcessHandle.hold: the driver stops reading, so the process
 * blocks on write) until the client has taken all of it; the guest's memory stays bounded.
 */
const CLIENT_BACKLOG_BYTES = 1024 * 1024;

export class PtySession {
  handle?: ProcessHandle;
  client?: WebSocket;
  readonly output = new PtyOutput();
  private holding = false;

  constructor(readonly spec: PtySessionSpec) {}

  get running(): boolean {
    return this.handle !== undefined && !this.handle.end;
  }

  /** Starts the process once; later calls (a reconnect) find it started and keep its mode. */
  async start(deps: ExecdDeps, onTerminal: boolean): Promise<ProcessHandle> {
    if (this.handle) return this.handle;
    const { spec } = this;
    const handle = await launchShell(deps, {
      args: spec.command ? ['-c', spec.command] : [],
      user: spec.user,
      cwd: spec.cwd,
      stdin: true,
      pty: onTerminal ? { cols: 80, rows: 24 } : undefined,
      tag: `pty-${spec.id}`,
    });
    // Another client may have started it while this one awaited the launch.
    if (this.handle) {
      handle.driver.kill('SIGKILL');
      return this.handle;
    }
    this.handle = handle;
    handle.subscribe((ev) => {
      if (ev.type === 'data') {
        this.output.append(ev.data);
        this.sendOutput(Buffer.concat([Buffer.of(ev.kind === 'stderr' ? PTY_CHANNEL.stderr : PTY_CHANNEL.stdout), ev.data]));
      } else {
        this.client?.send(JSON.stringify({ type: 'exit', exit_code: ev.end.exitCode }));
        this.client?.close(1000, 'exited');
      }
    });
    return handle;
  }

  private sendOutput(frame: Buffer): void {
    const ws = this.client;
    if (!ws) return;
    ws.send(frame, () => {
      if (ws.bufferedAmount === 0) this.release();
    });
    if (!this.holding && ws.bufferedAmount > CLIENT_BACKLOG_BYTES) {
      this.holding = true;
      this.handle!.hold();
    }
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.handle?.release();
  }

  /** The one attached client (undefined: none); a new or departed client ends any hold. */
  setClient(ws: WebSocket | undefined): void {
    this.client = ws;
    this.release();
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) signalSession(this.handle!.pid, this.handle!.isPty, signal);
  }

  /** Ends the process and its client (DELETE /pty/{id}). */
  close(): void {
    if (this.running) this.handle!.driver.kill('SIGKILL');
    this.client?.close(1000, 'deleted');
  }
}

