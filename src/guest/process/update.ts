/** Update: resizes a PTY process's terminal. */
import { AgentboxError } from '../../api/errors.ts';
import type { UpdateRequest } from '../gen/process_pb.ts';
import { selector } from './selector.ts';
import type { ProcessDeps } from './deps.ts';

export async function update(deps: ProcessDeps, req: UpdateRequest) {
  const handle = deps.registry.findRunning(selector(req.process));
  const size = req.pty?.size;
  if (!size) return {};
  if (!handle.driver.resize) throw new AgentboxError('invalid_argument', `process ${handle.pid} has no PTY to resize; start it with pty`);
  if (size.cols < 1 || size.rows < 1) throw new AgentboxError('invalid_argument', 'pty size needs cols ≥ 1 and rows ≥ 1');
  handle.driver.resize(size.cols, size.rows);
  return {};
}
