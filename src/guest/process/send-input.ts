/** SendInput: stdin or PTY bytes to a running process. */
import type { SendInputRequest } from '../gen/process_pb.ts';
import { writeInput } from './input.ts';
import { selector } from './selector.ts';
import type { ProcessDeps } from './deps.ts';

export async function sendInput(deps: ProcessDeps, req: SendInputRequest) {
  writeInput(deps.registry.findRunning(selector(req.process)), req.input);
  return {};
}
