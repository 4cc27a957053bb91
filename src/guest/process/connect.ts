/** Connect: attaches to a running (or recently exited) process by pid or tag; live output only. */
import type { HandlerContext } from '@connectrpc/connect';
import type { ConnectRequest } from '../gen/process_pb.ts';
import { processEvents } from './events.ts';
import type { ProcessDeps } from './deps.ts';
import { selector } from './selector.ts';

export async function* connect(deps: ProcessDeps, req: ConnectRequest, ctx: HandlerContext) {
  const handle = deps.registry.find(selector(req.process));
  yield* processEvents(handle, ctx);
}
