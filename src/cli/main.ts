/** `agentbox <command>`: dispatch, and the one place errors become messages and exit codes. */
import { AgentboxSdkError } from '../sdk/errors.ts';
import { COMMANDS, commandNamed, type CommandEntry } from './command-table.ts';
import { BROKEN_PIPE_EXIT, watchPipes, UsageError, type CliIo, type Flag } from './io.ts';

function usage(io: CliIo): void {
  io.stdout.write('usage: agentbox <command> [options]\n\n');
  for (const [name, c] of Object.entries(COMMANDS)) io.stdout.write(`  ${name.padEnd(10)} ${c.help}\n`);
  io.stdout.write('\n`agentbox help COMMAND` lists its options. AGENTBOX_URL and AGENTBOX_API_KEY select the server and key (default: the local `agentbox up`).\n');
}

/** `agentbox help CMD`, `agentbox CMD --help`: its line of help and its flags, from the command table as completion has them. */
function commandHelp(name: string, cmd: CommandEntry, io: CliIo): void {
  io.stdout.write(`agentbox ${name}: ${cmd.help}\n`);
  const spell = (f: Flag) => `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const values = (f: Flag) => (Array.isArray(f.completes) ? ` (${f.completes.join('|')})` : '');
  for (const f of cmd.flags ?? []) io.stdout.write(`  ${spell(f).padEnd(34)} ${f.help}${values(f)}\n`);
}

/** A plea for help among a command's options, not among the arguments of the command `exec` runs after `--`. */
const asksHelp = (args: string[]) => args.slice(0, args.includes('--') ? args.indexOf('--') : undefined).some((a) => a === '--help' || a === '-h');

/**
 * The process entry (bin/agentbox.mjs, entry.ts). A broken pipe ends the process at once, as
 * SIGPIPE ends a C tool, even while the command still runs (`top`, `logs -f`).
 */
export async function runProcess(argv: string[]): Promise<void> {
  const code = await main(argv);
  if (code === BROKEN_PIPE_EXIT) process.exit(code);
  process.exitCode = code;
}

/** Runs one command; ends with BROKEN_PIPE_EXIT, quietly, when the reader of its output goes away. */
export async function main(argv: string[], io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const pipes = watchPipes(io);
  const code = await Promise.race([dispatch(argv, io), pipes.gone.then(() => BROKEN_PIPE_EXIT)]);
  return pipes.happened() ? BROKEN_PIPE_EXIT : code;
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const about = name === 'help' && args.length === 1 ? commandNamed(args[0]!) : undefined;
  if (about) { commandHelp(args[0]!, about, io); return 0; }
  if (!name || name === 'help' || name === '--help' || name === '-h') { usage(io); return name ? 0 : 2; }
  const cmd = commandNamed(name);
  if (!cmd) { io.stderr.write(`agentbox: unknown command '${name}'\n`); usage(io); return 2; }
  if (asksHelp(args)) { commandHelp(name, cmd, io); return 0; }
  try {
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) { io.stderr.write(`agentbox ${name}: ${err.message}\n`); return 2; }
    if (err instanceof AgentboxSdkError) { io.stderr.write(`agentbox ${name}: ${err.code}: ${err.message}\n`); return 1; }
    const e = err as { code?: string; message?: string };
    io.stderr.write(`agentbox ${name}: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    return 1;
  }
}
