/**
 * A process started through the guest's `process.Process/Start` stream (background commands and
 * PTYs): the first frame carries the pid, then output, then exactly one end frame.
 */
import { AgentboxSdkError } from './errors.ts';
import type { EnvdClient } from './envd.ts';

export interface ProcessEnd { exitCode: number; exited: boolean; status?: string; error?: string }
type Event = { event?: { start?: { pid: number }; data?: { stdout?: string; stderr?: string; pty?: string }; end?: ProcessEnd } };

export interface StartedProcess {
  pid: number;
  /** Resolves with the end frame once the process ended. */
  ended: Promise<ProcessEnd>;
}

export async function startProcess(envd: EnvdClient, body: unknown, o: {
  user?: string; timeoutMs?: number;
  onData: (kind: 'stdout' | 'stderr' | 'pty', data: Uint8Array) => void;
}): Promise<StartedProcess> {
  const ac = new AbortController();
  const it = envd.stream<Event>('process.Process', 'Start', body, { ...(o.user ? { user: o.user } : {}), signal: ac.signal, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  const first = await it.next();
  const pid = first.done ? undefined : first.value.event?.start?.pid;
  if (pid === undefined) { ac.abort(); throw new AgentboxSdkError('internal', 'the guest did not send the start event first'); }
  const ended = (async () => {
    for await (const msg of it) {
      const ev = msg.event;
      if (ev?.data) for (const k of ['stdout', 'stderr', 'pty'] as const) { const v = ev.data[k]; if (v) o.onData(k, Buffer.from(v, 'base64')); }
      if (ev?.end) return { exitCode: ev.end.exitCode ?? 0, exited: ev.end.exited ?? false, ...(ev.end.status ? { status: ev.end.status } : {}), ...(ev.end.error ? { error: ev.end.error } : {}) };
    }
    throw new AgentboxSdkError('unavailable', 'the process stream ended without an end event');
  })();
  ended.catch(() => undefined);
  return { pid, ended };
}

/** Process selector + input helpers shared by command handles and PTYs. */
export const processCalls = (envd: EnvdClient, pid: number) => ({
  sendInput: (kind: 'stdin' | 'pty', data: string | Uint8Array) =>
    envd.unary('process.Process', 'SendInput', { process: { pid }, input: { [kind]: Buffer.from(data).toString('base64') } }).then(() => undefined),
  kill: async (): Promise<boolean> => {
    try {
      await envd.unary('process.Process', 'SendSignal', { process: { pid }, signal: 'SIGNAL_SIGKILL' });
      return true;
    } catch (err) {
      if ((err as AgentboxSdkError).code === 'not_found') return false;
      throw err;
    }
  },
  closeStdin: () => envd.unary('process.Process', 'CloseStdin', { process: { pid } }).then(() => undefined),
  resize: (size: { cols: number; rows: number }) => envd.unary('process.Process', 'Update', { process: { pid }, pty: { size } }).then(() => undefined),
});
