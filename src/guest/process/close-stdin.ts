/** CloseStdin: EOF on a non-PTY process's stdin. */
import type { CloseStdinRequest } from '../gen/process_pb.ts';
import { selector } from './selector.ts';
import type { ProcessDeps } from './deps.ts';

export async function closeStdin(deps: ProcessDeps, req: CloseStdinRequest) {
  deps.registry.findRunning(selector(req.process)).driver.closeStdin();
  return {};
}
