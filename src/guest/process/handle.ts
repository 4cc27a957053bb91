/**
 * One process started through the guest, whatever drives it (pipes or a PTY): fans its output
 * out to every attached stream and remembers how it ended.
 */
import { constants } from 'node:os';
import { SIGNAL_TEXT } from '../../api/envd-protocol.ts';

/** envd's chunk limits (docs/e2b.md, the guest protocol): stdout/stderr ≤ 32 KiB, PTY ≤ 16 KiB per data frame. */
export const MAX_STD_CHUNK = 32 * 1024;
export const MAX_PTY_CHUNK = 16 * 1024;

export type OutputKind = 'stdout' | 'stderr' | 'pty';

export interface ProcessEnd {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

export type HandleEvent =
  | { type: 'data'; kind: OutputKind; data: Uint8Array }
  | { type: 'end'; end: ProcessEnd };

export interface ProcessSpec {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
}

/** What a driver (pipes or PTY) lets the handle do to the live process. */
export interface ProcessDriver {
  readonly pid: number;
  writeStdin(data: Uint8Array): void;
  closeStdin(): void;
  resize?(cols: number, rows: number): void;
  kill(signal: NodeJS.Signals): void;
  /** Stops reading the process's output (its pipe fills and it waits), until resumeOutput. */
  pauseOutput?(): void;
  resumeOutput?(): void;
}

export function signalName(num: number): string | undefined {
  return Object.entries(constants.signals).find(([, n]) => n === num)?.[0];
}

/** envd's end event from an exit code or a signal name. */
export function processEnd(code: number | null, signal: string | null): ProcessEnd {
  if (signal) {
    // Worded as envd's ("signal: killed") for clients that show it.
    const status = `signal: ${SIGNAL_TEXT[signal as NodeJS.Signals] ?? signal}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const exitCode = code ?? -1;
  const status = `exit status ${exitCode}`;
  return exitCode === 0 ? { exitCode, exited: true, status } : { exitCode, exited: true, status, error: status };
}

export class ProcessHandle {
  end?: ProcessEnd;
  private readonly listeners = new Set<(ev: HandleEvent) => void>();
  private readonly endWaiters: (() => void)[] = [];
  private holds = 0;

  constructor(
    readonly driver: ProcessDriver,
    readonly spec: ProcessSpec,
    readonly isPty: boolean,
    readonly tag?: string,
  ) {}

  get pid(): number {
    return this.driver.pid;
  }

  /** Receives every later event; returns the unsubscribe. */
  subscribe(fn: (ev: HandleEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * A subscriber that cannot keep up holds the output back: while any hold is on, the driver
   * stops reading, so a slow client slows the process down instead of filling guest memory.
   */
  hold(): void {
    if (this.holds++ === 0) this.driver.pauseOutput?.();
  }

  release(): void {
    if (this.holds > 0 && --this.holds === 0) this.driver.resumeOutput?.();
  }

  /** Called by the driver; splits data into protocol-sized chunks. */
  emitData(kind: OutputKind, data: Uint8Array): void {
    const max = kind === 'pty' ? MAX_PTY_CHUNK : MAX_STD_CHUNK;
    for (let off = 0; off < data.length; off += max) {
      const chunk = data.subarray(off, off + max);
      for (const fn of this.listeners) fn({ type: 'data', kind, data: chunk });
    }
  }

  /** Called once by the driver when the process is gone and its output drained. */
  finish(end: ProcessEnd): void {
    if (this.end) return;
    this.end = end;
    for (const fn of this.listeners) fn({ type: 'end', end });
    this.listeners.clear();
    for (const w of this.endWaiters.splice(0)) w();
  }

  exited(): Promise<void> {
    return this.end ? Promise.resolve() : new Promise((r) => this.endWaiters.push(r));
  }
}
