/** List: the running processes started through the guest. */
import type { ProcessDeps } from './deps.ts';

export async function list(deps: ProcessDeps) {
  return {
    processes: deps.registry.running().map((h) => ({
      pid: h.pid,
      tag: h.tag,
      config: { cmd: h.spec.cmd, args: h.spec.args, envs: h.spec.envs, cwd: h.spec.cwd },
    })),
  };
}
