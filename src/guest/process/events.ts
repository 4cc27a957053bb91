/** Turns ProcessHandle events into wire ProcessEvents, shared by Start and Connect. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import type { ProcessEventSchema } from '../gen/process_pb.ts';
import { eventStream, keepaliveMs } from '../stream.ts';
import type { HandleEvent, ProcessHandle } from './handle.ts';

export type WireEvent = MessageInitShape<typeof ProcessEventSchema>;

function toWire(ev: HandleEvent): WireEvent {
  if (ev.type === 'end') return { event: { case: 'end', value: ev.end } };
  return { event: { case: 'data', value: { output: { case: ev.kind, value: ev.data } } } };
}

/**
 * start{pid}, then live output and keepalives, then end. The stream stops early when the
 * client goes away or its deadline passes; the process itself is not touched here.
 */
export async function* processEvents(handle: ProcessHandle, ctx: HandlerContext): AsyncGenerator<{ event: WireEvent }> {
  yield { event: { event: { case: 'start', value: { pid: handle.pid } } } };
  if (handle.end) {
    yield { event: toWire({ type: 'end', end: handle.end }) };
    return;
  }
  const frames = eventStream<WireEvent>({
    subscribe: (push) => handle.subscribe((ev) => push(toWire(ev), ev.type === 'end')),
    keepalive: () => ({ event: { case: 'keepalive', value: {} } }),
    keepaliveMs: keepaliveMs(ctx),
    signal: ctx.signal,
    hold: () => handle.hold(),
    release: () => handle.release(),
  });
  for await (const event of frames) yield { event };
}
