/**
 * The template's start command: launched once at boot as a guest process (tag `start`, so a
 * client can Connect to it), its output copied line by line to the guest log, never restarted.
 * Its environment is the sandbox-wide one unless the config gives it its own (`start.envVars`).
 * How it stands, with its last lines of output, is what GET /start-command reports
 * (StartCommandStatus in src/api/envd-protocol.ts).
 */
import { create } from '@bufbuild/protobuf';
import { StartRequestSchema } from './gen/process_pb.ts';
import { resolveUser } from './auth.ts';
import type { GuestConfig } from './config.ts';
import type { ProcessDeps } from './process/deps.ts';
import { launch } from './process/start.ts';
import type { ProcessEnd, ProcessHandle } from './process/handle.ts';
import type { StartCommandStatus } from '../api/envd-protocol.ts';

export const START_COMMAND_TAG = 'start';

/** Lines of output a report keeps, and characters of each: enough for a stack trace's end. */
const TAIL_LINES = 20;
const TAIL_LINE_CHARS = 500;

/** Keeps the start command's status for GET /start-command; created before the guest serves, so it is never missing. */
export class StartCommandReport {
  private status: StartCommandStatus = { state: 'launching', output: [] };

  view(): StartCommandStatus {
    return { ...this.status, output: [...this.status.output] };
  }

  line(text: string): void {
    this.status.output.push(text.length > TAIL_LINE_CHARS ? `${text.slice(0, TAIL_LINE_CHARS)}…` : text);
    if (this.status.output.length > TAIL_LINES) this.status.output.shift();
  }

  running(): void { this.status.state = 'running'; }
  ended({ exitCode, exited, status }: ProcessEnd): void { Object.assign(this.status, { state: 'ended', end: { exitCode, exited, status } }); }
  failed(error: string): void { Object.assign(this.status, { state: 'failed', error }); }
}

/** Launches the start command; a failure to launch is logged and reported, never thrown. */
export async function runStartCommand(deps: ProcessDeps, start: NonNullable<GuestConfig['start']>, report: StartCommandReport): Promise<void> {
  const [cmd, ...args] = start.cmd;
  let handle: ProcessHandle;
  try {
    const user = resolveUser(deps, start.user);
    handle = await launch(deps, user, create(StartRequestSchema, {
      process: { cmd: cmd!, args, envs: start.env ?? {}, cwd: start.cwd },
      tag: START_COMMAND_TAG,
      stdin: false,
    }), start.envVars);
  } catch (err) {
    const error = (err as Error).message;
    deps.log.error('start command failed to launch', { error });
    report.failed(error);
    return;
  }
  report.running();
  const partial = { stdout: '', stderr: '', pty: '' };
  const emit = (line: string, kind: keyof typeof partial) => {
    deps.log.info(line, { source: `start:${kind}` });
    report.line(line);
  };
  handle.subscribe((ev) => {
    if (ev.type === 'end') {
      // A last line without its newline is output too (a crash's message often is one).
      for (const kind of ['stdout', 'stderr', 'pty'] as const) if (partial[kind]) emit(partial[kind], kind);
      deps.log.info('start command ended', { ...ev.end });
      report.ended(ev.end);
      return;
    }
    const lines = (partial[ev.kind] + Buffer.from(ev.data).toString('utf8')).split('\n');
    partial[ev.kind] = lines.pop() ?? '';
    for (const line of lines) emit(line, ev.kind);
  });
  if (handle.end) report.ended(handle.end);
  deps.log.info('start command launched', { pid: handle.pid, cmd: start.cmd });
}
