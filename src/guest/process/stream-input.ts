/** StreamInput: a client stream of input for one process (first message selects it). */
import { AgentboxError } from '../../api/errors.ts';
import type { StreamInputRequest } from '../gen/process_pb.ts';
import type { ProcessHandle } from './handle.ts';
import { writeInput } from './input.ts';
import { selector } from './selector.ts';
import type { ProcessDeps } from './deps.ts';

export async function streamInput(deps: ProcessDeps, reqs: AsyncIterable<StreamInputRequest>) {
  let handle: ProcessHandle | undefined;
  for await (const req of reqs) {
    switch (req.event.case) {
      case 'start':
        handle = deps.registry.findRunning(selector(req.event.value.process));
        break;
      case 'data':
        if (!handle) throw new AgentboxError('invalid_argument', 'StreamInput must start with a start event naming the process');
        writeInput(handle, req.event.value.input);
        break;
      default:
        break; // keepalive
    }
  }
  return {};
}
