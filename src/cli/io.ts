/** What every CLI command gets: its arguments and where to write. Passed, never global. */
import { AgentboxSdkError } from '../sdk/errors.ts';

export interface CliIo {
  /** Read only by commands that ask for it (`exec --stdin`). */
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export type Command = (args: string[], io: CliIo) => Promise<number>;

/** A user mistake on the command line; printed without a stack, exit code 2. */
export class UsageError extends AgentboxSdkError {
  constructor(message: string) { super('usage', message); }
}

/**
 * One option of a command, declared once in the command table (src/cli/command-table.ts): the
 * command's parser reads it and the completion scripts offer it.
 */
export interface Flag {
  /** Without the dashes: `template` is `--template`. */
  name: string;
  /** The placeholder of its value (`SECONDS`); absent for a switch such as `--json`. */
  value?: string;
  /** Given more than once, every value is kept (`--env A=1 --env B=2`). */
  repeats?: boolean;
  /** One letter that stands for it: `f` makes `-f` mean `--follow`. */
  short?: string;
  help: string;
  /** What completion offers as its value: these words, template names from the server, or files. */
  completes?: readonly string[] | 'template' | 'files';
}

/** `--key value`, `--key=value`, `-k` for a flag with a short letter, repeated flags; the rest are positionals. */
export function parseFlags(args: string[], spec: readonly Flag[] = []): {
  flags: Record<string, string | undefined>; multi: Record<string, string[]>; bools: Set<string>; positionals: string[];
} {
  const flags: Record<string, string | undefined> = {};
  const multi: Record<string, string[]> = {};
  const bools = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const short = /^-([a-zA-Z])$/.exec(a) && spec.find((f) => f.short === a[1]);
    if (!short && (!a.startsWith('--') || a === '--')) { positionals.push(a); continue; }
    const eq = short ? -1 : a.indexOf('=');
    const name = short ? short.name : a.slice(2, eq < 0 ? undefined : eq);
    const flag = short || spec.find((f) => f.name === name);
    if (!flag) throw new UsageError(`unknown option --${name}`);
    if (!flag.value) { bools.add(name); continue; }
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (flag.repeats) (multi[name] ??= []).push(value);
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
