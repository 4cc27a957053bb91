/**
 * Starting a shell line for execd: `bash -c` (plain `sh` in images without bash, as upstream),
 * through the process service's launch, so it runs in its own process group with the guest's
 * environment rules and appears in envd's process list like any other process.
 */
import { existsSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { AgentboxError } from '../../api/errors.ts';
import { resolveUser } from '../auth.ts';
import { StartRequestSchema } from '../gen/process_pb.ts';
import type { ProcessHandle } from '../process/handle.ts';
import type { ProcessDeps } from '../process/deps.ts';
import { launch } from '../process/start.ts';
import type { OsUser } from '../users.ts';
import type { ExecdDeps } from './deps.ts';
import { envFileVariables } from './env-file.ts';

export function shellPath(): string {
  return existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

/**
 * The user a command runs as: the sandbox's default user, or the one with `uid` (a uid the image
 * does not name runs with `/` as home); `gid` overrides the group.
 */
export function commandUser(deps: ProcessDeps, uid?: number, gid?: number): OsUser {
  if (gid !== undefined && uid === undefined) throw new AgentboxError('invalid_argument', 'gid requires uid');
  const base = uid === undefined ? resolveUser(deps, undefined) : deps.users.byUid(uid) ?? { name: String(uid), uid, gid: uid, home: '/', shell: '/bin/sh' };
  return gid === undefined ? base : { ...base, gid };
}

export interface ShellLaunch {
  args: string[];
  user: OsUser;
  cwd?: string;
  envs?: Record<string, string>;
  /** Keep stdin open (a bash session reads its commands from it). */
  stdin?: boolean;
  /** Run on a pseudo-terminal of this size instead of pipes (a PTY session, pty-session.ts). */
  pty?: { cols: number; rows: number };
  tag: string;
}

/** Starts the shell with the sandbox env file's variables under the request's own `envs`. */
export function launchShell(deps: ExecdDeps, l: ShellLaunch): Promise<ProcessHandle> {
  const envs = { ...(deps.envFile ? envFileVariables(deps.envFile) : {}), ...l.envs };
  return launch(deps, l.user, create(StartRequestSchema, {
    process: { cmd: shellPath(), args: l.args, envs, cwd: l.cwd },
    stdin: l.stdin ?? false,
    pty: l.pty && { size: l.pty },
    tag: l.tag,
  }));
}
