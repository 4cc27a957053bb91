/** WatchDir: a server stream of filesystem events under a directory; first frame is start. */
import type { HandlerContext } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { WatchDirRequest, WatchDirResponseSchema } from '../gen/filesystem_pb.ts';
import { eventStream, keepaliveMs } from '../stream.ts';
import { startWatch, watchSpec } from './watch-events.ts';
import type { FilesystemDeps } from './deps.ts';

type Frame = MessageInitShape<typeof WatchDirResponseSchema>;

export async function* watchDir(deps: FilesystemDeps, req: WatchDirRequest, ctx: HandlerContext): AsyncGenerator<Frame> {
  const spec = watchSpec(deps, req, ctx);
  const pending: Frame[] = [];
  let push: ((f: Frame) => void) | undefined;
  // The watch starts before the start frame is sent, so nothing that happens after the client
  // sees `start` can be missed.
  const watcher = startWatch(spec, deps.users, (ev) => {
    const frame: Frame = { event: { case: 'filesystem', value: ev } };
    if (push) push(frame); else pending.push(frame);
  });
  try {
    yield { event: { case: 'start', value: {} } };
    yield* eventStream<Frame>({
      subscribe: (p) => {
        for (const f of pending.splice(0)) p(f);
        push = p;
        return () => { push = undefined; };
      },
      keepalive: () => ({ event: { case: 'keepalive', value: {} } }),
      keepaliveMs: keepaliveMs(ctx),
      signal: ctx.signal,
    });
  } finally {
    watcher.close();
  }
}
