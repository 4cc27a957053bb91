/**
 * The template's start command: launched once at boot as a guest process (tag `start`, so a
 * client can Connect to it), its output copied line by line to the guest log, never restarted.
 * Its environment is the sandbox-wide one unless the config gives it its own (`start.envVars`).
 */
import { create } from '@bufbuild/protobuf';
import { StartRequestSchema } from './gen/process_pb.ts';
import { resolveUser } from './auth.ts';
import type { GuestConfig } from './config.ts';
import type { ProcessDeps } from './process/deps.ts';
import { launch } from './process/start.ts';
import type { ProcessHandle } from './process/handle.ts';

export const START_COMMAND_TAG = 'start';

export async function runStartCommand(deps: ProcessDeps, start: NonNullable<GuestConfig['start']>): Promise<ProcessHandle> {
  const [cmd, ...args] = start.cmd;
  const user = resolveUser(deps, start.user);
  const handle = await launch(deps, user, create(StartRequestSchema, {
    process: { cmd: cmd!, args, envs: start.env ?? {}, cwd: start.cwd },
    tag: START_COMMAND_TAG,
    stdin: false,
  }), start.envVars);
  const partial = { stdout: '', stderr: '', pty: '' };
  handle.subscribe((ev) => {
    if (ev.type === 'end') {
      deps.log.info('start command ended', { ...ev.end });
      return;
    }
    const lines = (partial[ev.kind] + Buffer.from(ev.data).toString('utf8')).split('\n');
    partial[ev.kind] = lines.pop() ?? '';
    for (const line of lines) deps.log.info(line, { source: `start:${ev.kind}` });
  });
  deps.log.info('start command launched', { pid: handle.pid, cmd: start.cmd });
  return handle;
}
