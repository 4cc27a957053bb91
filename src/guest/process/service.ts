/**
 * The `process.Process` service: shared state and registration only; each RPC lives in its own
 * module beside this one (docs/architecture.md, rule “one RPC per module”).
 */
import type { ConnectRouter } from '@connectrpc/connect';
import { Process } from '../gen/process_pb.ts';
import type { ProcessDeps } from './deps.ts';
import { start } from './start.ts';
import { connect } from './connect.ts';
import { list } from './list.ts';
import { sendInput } from './send-input.ts';
import { streamInput } from './stream-input.ts';
import { sendSignal } from './send-signal.ts';
import { update } from './update.ts';
import { closeStdin } from './close-stdin.ts';

export function registerProcessService(router: ConnectRouter, deps: ProcessDeps): void {
  router.service(Process, {
    start: (req, ctx) => start(deps, req, ctx),
    connect: (req, ctx) => connect(deps, req, ctx),
    list: () => list(deps),
    sendInput: (req) => sendInput(deps, req),
    streamInput: (reqs) => streamInput(deps, reqs),
    sendSignal: (req) => sendSignal(deps, req),
    update: (req) => update(deps, req),
    closeStdin: (req) => closeStdin(deps, req),
  });
}
