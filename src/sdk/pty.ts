/** `sbx.pty`: interactive terminals, through the guest's process service. */
import type { EnvdClient } from './envd.ts';
import { processCalls, startProcess, type ProcessEnd } from './process-stream.ts';

export interface PtyOptions {
  cols?: number;
  rows?: number;
  /** Receives the terminal's output bytes. */
  onData: (data: Uint8Array) => void;
  /** Default: an interactive `/bin/sh`. */
  cmd?: string[];
  envs?: Record<string, string>;
  cwd?: string;
  user?: string;
}

export interface PtyHandle {
  pid: number;
  sendInput(data: string | Uint8Array): Promise<void>;
  resize(size: { cols: number; rows: number }): Promise<void>;
  kill(): Promise<boolean>;
  /** Resolves when the shell exits. */
  wait(): Promise<ProcessEnd>;
}

export class Pty {
  /** @internal */
  constructor(private readonly envd: EnvdClient) {}

  /**
   * @example
   *   const term = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => process.stdout.write(d) });
   *   await term.sendInput('ls\n');
   */
  async create(o: PtyOptions): Promise<PtyHandle> {
    const argv = o.cmd ?? ['/bin/sh', '-i'];
    const proc = { cmd: argv[0]!, args: argv.slice(1), envs: { TERM: 'xterm-256color', LANG: 'C.UTF-8', ...(o.envs ?? {}) }, ...(o.cwd ? { cwd: o.cwd } : {}) };
    const started = await startProcess(this.envd, { process: proc, pty: { size: { cols: o.cols ?? 80, rows: o.rows ?? 24 } } }, {
      ...(o.user ? { user: o.user } : {}),
      onData: (kind, data) => { if (kind === 'pty') o.onData(data); },
    });
    const calls = processCalls(this.envd, started.pid);
    return {
      pid: started.pid,
      sendInput: (d) => calls.sendInput('pty', d),
      resize: calls.resize,
      kill: calls.kill,
      wait: () => started.ended,
    };
  }
}
