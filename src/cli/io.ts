/** What every CLI command gets: its arguments and where to write. Passed, never global. */
import { AgentboxSdkError } from '../sdk/errors.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export type Command = (args: string[], io: CliIo) => Promise<number>;

/** A user mistake on the command line; printed without a stack, exit code 2. */
export class UsageError extends AgentboxSdkError {
  constructor(message: string) { super('usage', message); }
}

/** `--key value`, `--key=value`, repeated keys and flags; the rest are positionals. */
export function parseFlags(args: string[], spec: { strings?: string[]; multi?: string[]; bools?: string[] }): {
  flags: Record<string, string | undefined>; multi: Record<string, string[]>; bools: Set<string>; positionals: string[];
} {
  const flags: Record<string, string | undefined> = {};
  const multi: Record<string, string[]> = {};
  const bools = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a === '--') { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (spec.bools?.includes(name)) { bools.add(name); continue; }
    const isMulti = spec.multi?.includes(name);
    if (!isMulti && !spec.strings?.includes(name)) throw new UsageError(`unknown option --${name}`);
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (isMulti) (multi[name] ??= []).push(value);
    else flags[name] = value;
  }
  return { flags, multi, bools, positionals };
}

/** `K=V` pairs → a map. */
export function pairs(items: string[] | undefined, what: string): Record<string, string> | undefined {
  if (!items?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} '${item}' must look like KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** The exit status of a writer whose reader went away: 128 + SIGPIPE, what `yes | head -1` gives `yes`. */
export const BROKEN_PIPE_EXIT = 128 + 13;

const isEpipe = (err: unknown): boolean => (err as NodeJS.ErrnoException | null | undefined)?.code === 'EPIPE';

/**
 * Watches stdout and stderr for a reader that went away (`agentbox ls | head -1`). Node ignores
 * SIGPIPE, so a write to a closed pipe fails with EPIPE, emitted on the stream: unhandled, that
 * is a stack trace. The listener stays for the life of the streams, so every later write to the
 * broken one is swallowed too; other stream errors are not ours to hide. `gone` resolves once
 * it happened; `happened()` also sees a write that failed just now, whose event is still queued
 * (Node marks the stream `errored` at once and emits on a later tick).
 */
export function watchPipes(io: CliIo): { gone: Promise<void>; happened(): boolean } {
  const streams = [io.stdout, io.stderr];
  const gone = new Promise<void>((resolve) => {
    for (const stream of streams) {
      stream.on('error', (err: unknown) => {
        if (!isEpipe(err)) throw err;
        resolve();
      });
    }
  });
  return { gone, happened: () => streams.some((s) => isEpipe((s as { errored?: unknown }).errored)) };
}

export function print(io: CliIo, line: string): void {
  io.stdout.write(`${line}\n`);
}
