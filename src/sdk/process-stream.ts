/**
 * A process started through the guest's `process.Process/Start` stream (background commands and
 * PTYs): the first frame carries the pid, then output, then exactly one end frame, read by the
 * host's one event reader (src/envd/process-events.ts).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { readProcessEvents, type OutputKind } from '../envd/process-events.ts';
import { Process, Signal, type StartRequestSchema } from '../guest/gen/process_pb.ts';
import { AgentboxSdkError } from './errors.ts';
import type { EnvdClient } from './envd.ts';

export interface ProcessEnd { exitCode: number; exited: boolean; status?: string; error?: string }

export interface StartedProcess {
  pid: number;
  /** Resolves with the end frame once the process ended. */
  ended: Promise<ProcessEnd>;
}

export async function startProcess(envd: EnvdClient, req: MessageInitShape<typeof StartRequestSchema>, o: {
  user?: string; timeoutMs?: number;
  onData: (kind: OutputKind, data: Uint8Array) => void;
}): Promise<StartedProcess> {
  const notFirst = () => new AgentboxSdkError('internal', 'the guest did not send the start event first');
  let pid: number | undefined;
  let started!: (pid: number) => void;
  const gotPid = new Promise<number>((resolve) => { started = resolve; });
  const stream = envd.stream(Process.method.start, req, { ...(o.user ? { user: o.user } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  const ended = readProcessEvents(stream, {
    onStart: (p) => { pid = p; started(p); },
    onData: (kind, data) => {
      if (pid === undefined) throw notFirst();
      o.onData(kind, data);
    },
  }).then((end): ProcessEnd => {
    if (!end) throw new AgentboxSdkError('unavailable', 'the process stream ended without an end event');
    return { exitCode: end.exitCode, exited: end.exited, ...(end.status ? { status: end.status } : {}), ...(end.error ? { error: end.error } : {}) };
  });
  ended.catch(() => undefined);
  // A stream that fails or ends before its start event rejects the start itself.
  return { pid: await Promise.race([gotPid, ended.then(() => { throw notFirst(); })]), ended };
}

/** Process selector + input helpers shared by command handles and PTYs. */
export const processCalls = (envd: EnvdClient, pid: number) => {
  const process = { selector: { case: 'pid' as const, value: pid } };
  return {
    sendInput: (kind: 'stdin' | 'pty', data: string | Uint8Array) =>
      envd.unary(Process.method.sendInput, { process, input: { input: { case: kind, value: Buffer.from(data) } } }).then(() => undefined),
    kill: async (): Promise<boolean> => {
      try {
        await envd.unary(Process.method.sendSignal, { process, signal: Signal.SIGKILL });
        return true;
      } catch (err) {
        if ((err as AgentboxSdkError).code === 'not_found') return false;
        throw err;
      }
    },
    closeStdin: () => envd.unary(Process.method.closeStdin, { process }).then(() => undefined),
    resize: (size: { cols: number; rows: number }) => envd.unary(Process.method.update, { process, pty: { size } }).then(() => undefined),
  };
};
