/** `agentbox <command>`: dispatch, and the one place errors become messages and exit codes. */
import { AgentboxSdkError } from '../sdk/errors.ts';
import { BROKEN_PIPE_EXIT, watchPipes, UsageError, type CliIo, type Command } from './io.ts';

/** Kubernetes roles, written by the Kubernetes side (src/k8s/cli.ts); loaded only when used. */
const k8s = () => import('../k8s/cli.ts');

/** Commands load their module on use: `up` pulls in the engine, `ls` should not pay for it. */
const lazy = <M>(load: () => Promise<M>, pick: (m: M) => Command): Command => async (args, io) => pick(await load())(args, io);
const sandboxes = () => import('./commands/sandboxes.ts');
const admin = () => import('./commands/admin.ts');
const policy = () => import('./commands/policy.ts');

const COMMANDS: Record<string, { run: Command; help: string }> = {
  up: { run: lazy(() => import('./commands/up.ts'), (m) => m.up), help: 'start the server (state in $AGENTBOX_HOME, API on 127.0.0.1:7420)' },
  doctor: { run: lazy(() => import('./commands/doctor.ts'), (m) => m.doctor), help: 'check what is installed and what to fix' },
  create: { run: lazy(sandboxes, (m) => m.create), help: 'create a sandbox and print its id' },
  ls: { run: lazy(sandboxes, (m) => m.ls), help: 'list sandboxes' },
  exec: { run: lazy(sandboxes, (m) => m.exec), help: 'run a command: exec ID -- CMD…' },
  shell: { run: lazy(() => import('./commands/shell.ts'), (m) => m.shell), help: 'interactive shell in a sandbox' },
  cp: { run: lazy(() => import('./commands/cp.ts'), (m) => m.cp), help: 'copy files: cp SRC DST with ID:/path on one side' },
  pause: { run: lazy(sandboxes, (m) => m.pause), help: 'pause a sandbox' },
  resume: { run: lazy(sandboxes, (m) => m.resume), help: 'resume a sandbox' },
  kill: { run: lazy(sandboxes, (m) => m.kill), help: 'kill a sandbox and remove its files' },
  template: { run: lazy(admin, (m) => m.template), help: 'template build FILE | template import NAME ARCHIVE [--ref IMAGE] | template ls | template export NAME --oci FILE [--ref IMAGE] [--with-guest]' },
  pool: { run: lazy(admin, (m) => m.pool), help: 'pool set TEMPLATE --size N | pool ls' },
  keys: { run: lazy(admin, (m) => m.keys), help: 'keys create|ls|revoke (admin key)' },
  policy: { run: lazy(policy, (m) => m.policy), help: 'policy [show] | policy set LIMIT=VALUE… (admin key)' },
  tenant: { run: lazy(policy, (m) => m.tenant), help: 'tenant limits TENANT [LIMIT=VALUE…] [--reset] (admin key)' },
  operator: { run: lazy(k8s, (m) => m.operatorCommand), help: 'run the Kubernetes operator' },
  router: { run: lazy(k8s, (m) => m.routerCommand), help: 'run the Kubernetes sandbox router' },
};

function usage(io: CliIo): void {
  io.stdout.write('usage: agentbox <command> [options]\n\n');
  for (const [name, c] of Object.entries(COMMANDS)) io.stdout.write(`  ${name.padEnd(10)} ${c.help}\n`);
  io.stdout.write('\nAGENTBOX_URL and AGENTBOX_API_KEY select the server and key (default: the local `agentbox up`).\n');
}

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
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const pipes = watchPipes(io);
  const code = await Promise.race([dispatch(argv, io), pipes.gone.then(() => BROKEN_PIPE_EXIT)]);
  return pipes.happened() ? BROKEN_PIPE_EXIT : code;
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') { usage(io); return name ? 0 : 2; }
  const cmd = COMMANDS[name];
  if (!cmd) { io.stderr.write(`agentbox: unknown command '${name}'\n`); usage(io); return 2; }
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
