/**
 * A persistent bash for execd's /session API: one bash reads command lines from its stdin, so
 * the working directory, variables and functions persist between runs. Each run ends with a
 * marker line carrying `$?` on stdout and a marker on stderr; output before the markers belongs
 * to the run. Runs are serialised: a second one waits for the first.
 */
import { randomBytes } from 'node:crypto';
import { AgentboxError } from '../../api/errors.ts';
import type { ProcessHandle } from '../process/handle.ts';
import { LineSplitter } from './lines.ts';
import type { EventSink } from './sse.ts';
import { endEvents } from './execution.ts';
import { newExecutionId } from './commands.ts';

export interface SessionRun {
  command: string;
  cwd?: string;
  timeoutMs?: number;
}

/** Single quotes for bash, so a cwd is never read as code. */
function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export class BashSession {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly id: string, private readonly bash: ProcessHandle) {}

  /** Streams the run's output and end to `sink`, after the runs queued before it. */
  run(r: SessionRun, sink: EventSink): Promise<void> {
    const next = this.queue.then(() => this.runNow(r, sink));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    if (!this.bash.end) this.bash.driver.kill('SIGKILL');
  }

  private runNow(r: SessionRun, sink: EventSink): Promise<void> {
    if (this.bash.end) throw new AgentboxError('conflict', `session '${this.id}' has ended (${this.bash.end.status}); create a new one`);
    const mark = `__execd_${randomBytes(8).toString('hex')}`;
    const started = Date.now();
    return new Promise<void>((resolve) => {
      let exitCode: number | undefined;
      let stderrDone = false;
      let finished = false;
      const finish = (code: number, status: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        unsubscribe();
        endEvents(sink, { exitCode: code, exited: true, status }, started);
        sink.end();
        resolve();
      };
      const maybeDone = () => { if (exitCode !== undefined && stderrDone) finish(exitCode, `exit status ${exitCode}`); };
      const stdoutEnd = new RegExp(`^(.*)${mark} (\\d+)$`);
      const stderrEnd = new RegExp(`^(.*)${mark}$`);
      const out = new LineSplitter((line) => {
        const m = stdoutEnd.exec(line);
        if (m?.[1]) sink.send({ type: 'stdout', text: m[1] });
        if (m) { exitCode = Number(m[2]); maybeDone(); } else sink.send({ type: 'stdout', text: line });
      });
      const err = new LineSplitter((line) => {
        const m = stderrEnd.exec(line);
        if (m?.[1]) sink.send({ type: 'stderr', text: m[1] });
        if (m) { stderrDone = true; maybeDone(); } else sink.send({ type: 'stderr', text: line });
      });
      const unsubscribe = this.bash.subscribe((ev) => {
        if (ev.type === 'data') return (ev.kind === 'stderr' ? err : out).push(ev.data);
        // `exit` in the command ends the session's bash itself.
        out.flush();
        err.flush();
        finish(ev.end.exitCode, ev.end.status);
      });
      // A run that outlives its timeout (or a client that left) ends the session: bash cannot
      // be interrupted in the middle of a line it reads from a pipe without losing its state.
      const kill = () => this.close();
      const timer = r.timeoutMs ? setTimeout(kill, r.timeoutMs) : undefined;
      sink.signal.addEventListener('abort', kill, { once: true });
      const cd = r.cwd ? `cd -- ${quote(r.cwd)} && ` : '';
      sink.send({ type: 'init', text: newExecutionId() });
      this.bash.driver.writeStdin(Buffer.from(
        `${cd}{ ${r.command}\n}; __execd_rc=$?; printf '%s %d\\n' ${mark} "$__execd_rc"; printf '%s\\n' ${mark} >&2\n`,
      ));
    });
  }
}
