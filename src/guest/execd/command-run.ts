/**
 * POST /command: runs a shell line. Foreground: streams `init`, its output line by line and how
 * it ended; the process is killed when the client leaves or `timeout` passes. Background:
 * `init` then `execution_complete` at once; the output goes to the command's log
 * (GET /command/{id}/logs) and its end to GET /command/status/{id}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod/mini';
import type { ExecdDeps } from './deps.ts';
import { newExecutionId } from './commands.ts';
import { killAfter, streamExecution } from './execution.ts';
import { readBody } from './request.ts';
import { RunCommandSchema } from './schemas.ts';
import { commandUser, launchShell } from './shell.ts';
import { openEventStream } from './sse.ts';

export async function runCommand(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await startCommand(deps, await readBody(req, RunCommandSchema), req, res);
}

/** Runs a checked command request (POST /command, and POST /code without a language). */
export async function startCommand(deps: ExecdDeps, body: z.output<typeof RunCommandSchema>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const user = commandUser(deps, body.uid, body.gid);
  const id = newExecutionId();
  const started = Date.now();
  const handle = await launchShell(deps, {
    args: ['-c', body.command], user, envs: body.envs, cwd: body.cwd, tag: id,
  });
  deps.commands.add(id, body.command, handle, body.background ?? false);
  killAfter(handle, body.timeout);
  const sink = openEventStream(req, res);
  sink.send({ type: 'init', text: id });
  if (body.background) {
    sink.send({ type: 'execution_complete', execution_time: Date.now() - started });
    sink.end();
    return;
  }
  sink.signal.addEventListener('abort', () => handle.driver.kill('SIGKILL'), { once: true });
  await streamExecution(handle, sink, started);
}
