/**
 * Streams one process's run as execd events: line-split stdout/stderr, then
 * `execution_complete` for exit 0 or `error{ename: CommandExecError, evalue: exit code}` for
 * anything else (a kill reads as -1, as the SDKs expect), never both.
 */
import type { ProcessEnd, ProcessHandle } from '../process/handle.ts';
import { LineSplitter } from './lines.ts';
import type { EventSink } from './sse.ts';

export function endEvents(sink: EventSink, end: ProcessEnd, startedMs: number): void {
  if (end.exitCode === 0) {
    sink.send({ type: 'execution_complete', execution_time: Date.now() - startedMs });
  } else {
    sink.send({ type: 'error', error: { ename: 'CommandExecError', evalue: String(end.exitCode), traceback: [end.status] } });
  }
}

/** Sends the output and end of `handle` to `sink` and ends it; resolves when the process ended. */
export function streamExecution(handle: ProcessHandle, sink: EventSink, startedMs: number): Promise<void> {
  const out = new LineSplitter((text) => sink.send({ type: 'stdout', text }));
  const err = new LineSplitter((text) => sink.send({ type: 'stderr', text }));
  return new Promise((resolve) => {
    const finish = (end: ProcessEnd) => {
      out.flush();
      err.flush();
      endEvents(sink, end, startedMs);
      sink.end();
      resolve();
    };
    if (handle.end) return finish(handle.end);
    handle.subscribe((ev) => {
      if (ev.type === 'end') finish(ev.end);
      else (ev.kind === 'stderr' ? err : out).push(ev.data);
    });
  });
}

/** Kills the process group after `timeoutMs` (execd's `timeout`), unless it ended first. */
export function killAfter(handle: ProcessHandle, timeoutMs: number | undefined): void {
  if (!timeoutMs) return;
  const timer = setTimeout(() => handle.driver.kill('SIGKILL'), timeoutMs);
  void handle.exited().then(() => clearTimeout(timer));
}
