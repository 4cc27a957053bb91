/** SendSignal: SIGTERM or SIGKILL to a running process's group. */
import { AgentboxError } from '../../api/errors.ts';
import { Signal, type SendSignalRequest } from '../gen/process_pb.ts';
import { selector } from './selector.ts';
import type { ProcessDeps } from './service.ts';

const SIGNALS: Partial<Record<Signal, NodeJS.Signals>> = {
  [Signal.SIGKILL]: 'SIGKILL',
  [Signal.SIGTERM]: 'SIGTERM',
};

export async function sendSignal(deps: ProcessDeps, req: SendSignalRequest) {
  const sig = SIGNALS[req.signal];
  if (!sig) throw new AgentboxError('invalid_argument', 'signal must be SIGNAL_SIGKILL or SIGNAL_SIGTERM');
  deps.registry.findRunning(selector(req.process)).driver.kill(sig);
  return {};
}
