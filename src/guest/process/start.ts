/** Start: spawns a process (pipes or PTY) as the request's user and streams its events. */
import { statSync } from 'node:fs';
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { AgentboxError } from '../../api/errors.ts';
import type { StartRequest } from '../gen/process_pb.ts';
import { requestUser, userPath } from '../request-user.ts';
import type { OsUser } from '../users.ts';
import type { GuestContext } from '../context.ts';
import { processEvents } from './events.ts';
import type { ProcessHandle } from './handle.ts';
import type { ProcessDeps } from './deps.ts';
import { spawnWithPipes } from './spawn-pipes.ts';
import { spawnWithPty } from './spawn-pty.ts';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** PATH, HOME, USER, LOGNAME, then sandbox-wide env, then the request's own (later wins). */
function processEnv(sandboxEnv: Record<string, string>, user: OsUser, envs: Record<string, string>): Record<string, string> {
  return { PATH: DEFAULT_PATH, HOME: user.home, USER: user.name, LOGNAME: user.name, ...sandboxEnv, ...envs };
}

function isDir(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}

/** The request's cwd (must exist), else the default workdir or home, else `/` for a home that is missing. */
export function processCwd(g: GuestContext, user: OsUser, cwd: string | undefined): string {
  if (cwd) {
    const dir = userPath(g, user, cwd);
    if (!isDir(dir)) throw new AgentboxError('invalid_argument', `cwd '${dir}' is not an existing directory`);
    return dir;
  }
  const fallback = g.state.defaultWorkdir ?? user.home;
  return isDir(fallback) ? fallback : '/';
}

/** Starts the request's process; `sandboxEnv` stands in for the sandbox-wide env (the start command's, start-command.ts). */
export async function launch(deps: ProcessDeps, user: OsUser, req: StartRequest, sandboxEnv = deps.state.envVars): Promise<ProcessHandle> {
  const cfg = req.process;
  if (!cfg?.cmd) throw new AgentboxError('invalid_argument', 'process.cmd is required');
  const spec = { cmd: cfg.cmd, args: cfg.args, envs: cfg.envs, cwd: cfg.cwd };
  const common = {
    spec,
    cwd: processCwd(deps, user, cfg.cwd),
    env: processEnv(sandboxEnv, user, cfg.envs),
    user,
    // Absent means true: clients before envd 0.3.0 expect an open stdin.
    stdin: req.stdin ?? true,
    tag: req.tag,
  };
  const handle = req.pty
    ? await spawnWithPty({ ...common, cols: req.pty.size?.cols || 80, rows: req.pty.size?.rows || 24 })
    : await spawnWithPipes({ ...common, processFactory: deps.processFactory });
  deps.registry.add(handle);
  return handle;
}

/** How long after its deadline a process whose client already left is killed. */
const DEADLINE_GRACE_MS = 50;

/**
 * Connect-Timeout-Ms elapsing kills the process; a client that merely disconnects does not.
 * While the client is attached, the call's own deadline abort does the kill, so the client
 * always sees deadline_exceeded rather than an end event racing it. Once the client has left,
 * the call's signal is spent, and a timer just after the deadline does the kill instead.
 */
function killAtDeadline(handle: ProcessHandle, ctx: HandlerContext): void {
  const timeoutMs = ctx.timeoutMs();
  if (timeoutMs === undefined || timeoutMs <= 0) return;
  const kill = () => handle.driver.kill('SIGKILL');
  const onAbort = () => {
    if (ConnectError.from(ctx.signal.reason).code === Code.DeadlineExceeded) kill();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(kill, timeoutMs + DEADLINE_GRACE_MS);
  void handle.exited().then(() => {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  });
}

export async function* start(deps: ProcessDeps, req: StartRequest, ctx: HandlerContext) {
  const user = requestUser(deps, ctx);
  const handle = await launch(deps, user, req);
  killAtDeadline(handle, ctx);
  yield* processEvents(handle, ctx);
}
