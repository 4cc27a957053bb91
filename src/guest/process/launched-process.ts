/**
 * A program started by the process factory (native/launcher.c), seen the way a ChildProcess is:
 * pid, stdin/stdout/stderr streams, 'exit' (code, signal) once it ends and 'close' once its
 * output streams have closed too. The factory, not the guest, is its parent, so the exit arrives
 * from it (ProcessFactory) through `ended`.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

export interface ProgramPipes {
  pid: number;
  /** The write end of the program's stdin pipe. */
  stdin: Socket;
  stdout: Socket;
  stderr: Socket;
}

export class LaunchedProcess extends EventEmitter {
  readonly pid: number;
  readonly stdin: Socket | null;
  readonly stdout: Socket;
  readonly stderr: Socket;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private openStreams = 2;

  constructor(pipes: ProgramPipes, keepStdin: boolean) {
    super();
    this.pid = pipes.pid;
    this.stdin = keepStdin ? pipes.stdin : null;
    if (!keepStdin) pipes.stdin.destroy();
    this.stdout = pipes.stdout;
    this.stderr = pipes.stderr;
    for (const s of [this.stdout, this.stderr]) s.once('close', () => { this.openStreams--; this.closeIfDone(); });
  }

  /** The program ended; code is null when a signal ended it, and both are null when its end could not be seen. */
  ended(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exit) return;
    this.exit = { code, signal };
    this.emit('exit', code, signal);
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (!this.exit || this.openStreams > 0) return;
    this.stdin?.destroy();
    this.emit('close', this.exit.code, this.exit.signal);
  }
}
