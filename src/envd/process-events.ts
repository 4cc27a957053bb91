/**
 * The one reader of a `process.Process/Start` or `/Connect` stream, for the engine's exec and the
 * SDK's background commands and PTYs: a `start` event with the pid, output as `data`, exactly one
 * `end` (keep-alives are skipped). It imports only generated types, so the SDK can use it too.
 */
import type { ProcessEvent, ProcessEvent_EndEvent } from '../guest/gen/process_pb.ts';

export type OutputKind = 'stdout' | 'stderr' | 'pty';

export interface ProcessEventHandlers {
  onStart?(pid: number): unknown;
  /**
   * Called for each output chunk. Its promise is awaited before the next message is read: that
   * is the backpressure (the guest's socket, then the process's pipe, fill up and the process waits).
   */
  onData?(kind: OutputKind, data: Uint8Array): unknown;
}

/** Reads `stream` to its end; resolves with the end event, or undefined when the stream ended without one. */
export async function readProcessEvents(
  stream: AsyncIterable<{ event?: ProcessEvent | undefined }>,
  handlers: ProcessEventHandlers,
): Promise<ProcessEvent_EndEvent | undefined> {
  let end: ProcessEvent_EndEvent | undefined;
  for await (const res of stream) {
    const ev = res.event?.event;
    if (ev?.case === 'start') await handlers.onStart?.(ev.value.pid);
    else if (ev?.case === 'data' && ev.value.output.case) await handlers.onData?.(ev.value.output.case, ev.value.output.value);
    else if (ev?.case === 'end') end = ev.value;
  }
  return end;
}
