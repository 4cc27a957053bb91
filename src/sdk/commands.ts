/**
 * `sbx.commands`: run a command to completion (streamed through the server's exec route) or in
 * the background (through the guest, with a handle to wait, kill and write stdin).
 */
import type { NativeApi } from '../api/native-routes.ts';
import type { ExecEvent } from '../api/native.ts';
import type { BodyInput } from '../api/route.ts';
import { routePath, type ApiClient } from './api-client.ts';
import type { EnvdClient } from './envd.ts';
import { AgentboxSdkError, CommandExitError, errorFromBody } from './errors.ts';
import { processCalls, startProcess } from './process-stream.ts';

export interface CommandResult { exitCode: number; stdout: string; stderr: string; error?: string }

export interface RunOptions {
  envs?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Kills the command after this long; 0 = no limit. Default 60 000. */
  timeoutMs?: number;
  onStdout?: (data: string) => void;
  onStderr?: (data: string) => void;
  /** Data written to stdin (foreground runs): text, or bytes sent exactly as they are. */
  stdin?: string | Uint8Array;
}

/** A command running in the background. */
export class CommandHandle {
  stdout = '';
  stderr = '';
  /** @internal */
  constructor(readonly pid: number, private readonly ended: Promise<{ exitCode: number; error?: string }>, private readonly calls: ReturnType<typeof processCalls>) {}

  /** Waits for the end; throws CommandExitError on a non-zero exit code. */
  async wait(): Promise<CommandResult> {
    const end = await this.ended;
    const result: CommandResult = { exitCode: end.exitCode, stdout: this.stdout, stderr: this.stderr, ...(end.error ? { error: end.error } : {}) };
    if (end.exitCode !== 0) throw new CommandExitError(result);
    return result;
  }

  /** SIGKILL; false when the process was already gone. */
  kill(): Promise<boolean> { return this.calls.kill(); }
  sendStdin(data: string | Uint8Array): Promise<void> { return this.calls.sendInput('stdin', data); }
  closeStdin(): Promise<void> { return this.calls.closeStdin(); }
}

/** One output stream's text from the exec route: as sent, or decoded from base64 across lines (a character may span two). */
function outputText(base64: boolean): { push(data: string): string; end(): string } {
  if (!base64) return { push: (data) => data, end: () => '' };
  const decoder = new TextDecoder();
  return { push: (data) => decoder.decode(Buffer.from(data, 'base64'), { stream: true }), end: () => decoder.decode() };
}

export class Commands {
  /** @internal */
  constructor(private readonly api: ApiClient, private readonly envd: EnvdClient, private readonly sandboxId: string) {}

  /**
   * Runs `cmd` with `/bin/sh -c` (or an argv array).
   *
   * @example
   *   const { stdout } = await sbx.commands.run('echo hi');
   *   const h = await sbx.commands.run('sleep 100', { background: true }); await h.kill();
   */
  run(cmd: string | string[], opts: RunOptions & { background: true }): Promise<CommandHandle>;
  run(cmd: string | string[], opts?: RunOptions & { background?: false }): Promise<CommandResult>;
  async run(cmd: string | string[], opts: RunOptions & { background?: boolean } = {}): Promise<CommandResult | CommandHandle> {
    return opts.background ? this.background(cmd, opts) : this.foreground(cmd, opts);
  }

  private async foreground(cmd: string | string[], o: RunOptions): Promise<CommandResult> {
    const body: BodyInput<NativeApi['exec']> = { cmd, timeoutMs: o.timeoutMs ?? 60_000 };
    if (o.envs) body.env = o.envs;
    if (o.cwd) body.cwd = o.cwd;
    if (o.user) body.user = o.user;
    // Bytes go as base64, which then carries the output too: it is decoded to text here.
    const base64 = typeof o.stdin === 'object';
    if (base64) body.encoding = 'base64';
    if (o.stdin !== undefined) body.stdin = typeof o.stdin === 'string' ? o.stdin : Buffer.from(o.stdin.buffer, o.stdin.byteOffset, o.stdin.byteLength).toString('base64');
    const text = { stdout: outputText(base64), stderr: outputText(base64) };
    let result: CommandResult;
    if (!o.onStdout && !o.onStderr) {
      const r = await this.api.call('exec', { id: this.sandboxId }, { json: body, timeoutMs: 0 });
      const whole = (kind: 'stdout' | 'stderr') => text[kind].push(r[kind]) + text[kind].end();
      result = { exitCode: r.exitCode, stdout: whole('stdout'), stderr: whole('stderr'), ...(r.status ? { error: r.status } : {}) };
    } else {
      const out = { stdout: '', stderr: '' };
      const emit = (kind: 'stdout' | 'stderr', data: string) => {
        if (!data) return;
        out[kind] += data;
        (kind === 'stdout' ? o.onStdout : o.onStderr)?.(data);
      };
      let end: Extract<ExecEvent, { type: 'end' }> | undefined;
      for await (const ev of this.api.ndjson<ExecEvent>('POST', routePath('exec', { id: this.sandboxId }), { json: body })) {
        if (ev.type === 'stdout' || ev.type === 'stderr') emit(ev.type, text[ev.type].push(ev.data));
        else if (ev.type === 'error') throw errorFromBody(0, ev);
        else end = ev;
      }
      if (!end) throw new AgentboxSdkError('unavailable', 'the exec stream ended without a result');
      emit('stdout', text.stdout.end());
      emit('stderr', text.stderr.end());
      result = { exitCode: end.exitCode, stdout: out.stdout, stderr: out.stderr, ...(end.status ? { error: end.status } : {}) };
    }
    if (result.exitCode !== 0) throw new CommandExitError(result);
    return result;
  }

  private async background(cmd: string | string[], o: RunOptions): Promise<CommandHandle> {
    const argv = typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd;
    const proc = { cmd: argv[0]!, args: argv.slice(1), envs: o.envs ?? {}, ...(o.cwd ? { cwd: o.cwd } : {}) };
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    let handle: CommandHandle | undefined;
    const early: [string, string][] = [];
    const started = await startProcess(this.envd, { process: proc, stdin: true }, {
      ...(o.user ? { user: o.user } : {}), timeoutMs: o.timeoutMs ?? 0,
      onData: (kind, data) => {
        if (kind === 'pty') return;
        const s = decoders[kind].decode(data, { stream: true });
        if (!handle) { early.push([kind, s]); return; }
        handle[kind] += s;
        (kind === 'stdout' ? o.onStdout : o.onStderr)?.(s);
      },
    });
    handle = new CommandHandle(started.pid, started.ended, processCalls(this.envd, started.pid));
    for (const [kind, s] of early) { handle[kind as 'stdout' | 'stderr'] += s; (kind === 'stdout' ? o.onStdout : o.onStderr)?.(s); }
    return handle;
  }
}
