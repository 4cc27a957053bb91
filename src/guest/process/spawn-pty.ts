/**
 * Runs a process on a pseudo-terminal through node-pty (loaded lazily: its native addon is only
 * needed by PTY sessions, so a guest whose addon fails to load still serves everything else).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AgentboxError } from '../../api/errors.ts';
import { ProcessHandle, processEnd, signalName } from './handle.ts';
import { killGroup } from './kill.ts';
import type { SpawnOptions } from './spawn-pipes.ts';

type NodePty = typeof import('node-pty');
let loading: Promise<NodePty> | undefined;

function loadNodePty(): Promise<NodePty> {
  // require(), not import(): the bundle's code runs from V8's code cache (../code-cache.ts), and
  // Node 20 loses a cached script's dynamic-import callback. node-pty is CommonJS; in the bundle
  // import.meta.url is guest-code.js, beside node_modules/.
  loading ??= new Promise((resolve) => resolve(createRequire(import.meta.url)('node-pty') as NodePty));
  return loading.catch((err) => {
    loading = undefined;
    throw new AgentboxError('not_supported', `PTY support is unavailable in this guest (node-pty failed to load: ${(err as Error).message})`, { cause: err });
  });
}

export interface PtySpawnOptions extends SpawnOptions {
  cols: number;
  rows: number;
}

/** Looks `cmd` up the way execvp will, so a missing program fails the RPC instead of the child. */
function findProgram(cmd: string, path: string | undefined): boolean {
  if (cmd.includes('/')) return existsSync(cmd);
  return (path ?? '').split(':').some((dir) => dir && existsSync(`${dir}/${cmd}`));
}

export async function spawnWithPty(opts: PtySpawnOptions): Promise<ProcessHandle> {
  if (!findProgram(opts.spec.cmd, opts.env.PATH)) {
    throw new AgentboxError('invalid_argument', `cannot start '${opts.spec.cmd}': no such file in PATH`);
  }
  const pty = await loadNodePty();
  const term = pty.spawn(opts.spec.cmd, opts.spec.args, {
    name: opts.env.TERM ?? 'xterm-256color',
    cols: opts.cols,
    rows: opts.rows,
    cwd: opts.cwd,
    env: opts.env,
    uid: opts.user.uid,
    gid: opts.user.gid,
    // Raw bytes: decoding here could split a multi-byte character across chunks.
    encoding: null,
  });
  const pid = term.pid;
  const handle = new ProcessHandle({
    pid,
    writeStdin(data) { term.write(Buffer.from(data)); },
    closeStdin() {
      throw new AgentboxError('invalid_argument', `process ${pid} runs on a PTY; send EOF (\\x04) as PTY input instead of CloseStdin`);
    },
    resize(cols, rows) { term.resize(cols, rows); },
    // forkpty makes the child a session leader, so its group is its pid.
    kill(signal) { killGroup(pid, signal); },
  }, opts.spec, true, opts.tag);
  term.onData((d: string | Buffer) => handle.emitData('pty', typeof d === 'string' ? Buffer.from(d) : d));
  term.onExit(({ exitCode, signal }) => {
    const name = signal ? signalName(signal) : undefined;
    handle.finish(processEnd(name ? null : exitCode, name ?? null));
  });
  return handle;
}
