/** SendSignal: SIGTERM or SIGKILL to a running process's group. */
import { AgentboxError } from '../../api/errors.ts';
import { Signal, type SendSignalRequest } from '../gen/process_pb.ts';
import { selector } from './selector.ts';
import type { ProcessDeps } from './deps.ts';

const SIGNALS: Partial<Record<Signal, NodeJS.Signals>> = {
  [Signal.SIGKILL]: 'SIGKILL',
  [Signal.SIGTERM]: 'SIGTERM',
};

/** How long a SIGKILL answer waits for the process to be gone. */
const KILL_SETTLE_MS = 1000;

export async function sendSignal(deps: ProcessDeps, req: SendSignalRequest) {
  const sig = SIGNALS[req.signal];
  if (!sig) throw new AgentboxError('invalid_argument', 'signal must be SIGNAL_SIGKILL or SIGNAL_SIGTERM');
  const handle = deps.registry.findRunning(selector(req.process));
  handle.driver.kill(sig);
  // A kill answers once the process is gone, so that the next call (a second kill, a List)
  // already sees it ended: clients treat "not found" after a kill as "already dead".
  if (sig === 'SIGKILL') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([handle.exited(), new Promise<void>((r) => { timer = setTimeout(r, KILL_SETTLE_MS); })]);
    clearTimeout(timer);
  }
  return {};
}
