/**
 * Every `agentbox` command: how it runs, its one-line help, and what shell completion offers
 * after it. `main.ts` dispatches from this table and `commands/completion.ts` generates the bash
 * and zsh scripts from it, so a new command is one line here.
 */
import type { Command } from './io.ts';

export interface CommandEntry {
  run: Command;
  help: string;
  /** For completion: the words its first argument takes, or `sandbox` (an id of `ls --quiet`), or `files`. */
  completes?: readonly string[] | 'sandbox' | 'files';
}

/** Kubernetes roles, written by the Kubernetes side (src/k8s/cli.ts); loaded only when used. */
const k8s = () => import('../k8s/cli.ts');

/** Commands load their module on use: `up` pulls in the engine, `ls` should not pay for it. */
const lazy = <M>(load: () => Promise<M>, pick: (m: M) => Command): Command => async (args, io) => pick(await load())(args, io);
const sandboxes = () => import('./commands/sandboxes.ts');
const admin = () => import('./commands/admin.ts');
const policy = () => import('./commands/policy.ts');
const observe = () => import('./commands/observe.ts');
const service = () => import('./commands/service.ts');

export const COMMANDS: Record<string, CommandEntry> = {
  up: { run: lazy(() => import('./commands/up.ts'), (m) => m.up), help: 'start the server (state in $AGENTBOX_HOME, API on 127.0.0.1:7420)' },
  service: { run: lazy(service, (m) => m.service), help: 'service install [--home DIR] [--port P] | service uninstall: `agentbox up` as a systemd service', completes: ['install', 'uninstall'] },
  doctor: { run: lazy(() => import('./commands/doctor.ts'), (m) => m.doctor), help: 'check what is installed and what to fix' },
  create: { run: lazy(sandboxes, (m) => m.create), help: 'create a sandbox and print its id (its timeout on stderr)' },
  ls: { run: lazy(sandboxes, (m) => m.ls), help: 'list sandboxes (--quiet: ids only)' },
  exec: { run: lazy(sandboxes, (m) => m.exec), help: 'run a command: exec ID -- CMD…', completes: 'sandbox' },
  shell: { run: lazy(() => import('./commands/shell.ts'), (m) => m.shell), help: 'interactive shell in a sandbox', completes: 'sandbox' },
  cp: { run: lazy(() => import('./commands/cp.ts'), (m) => m.cp), help: 'copy files: cp SRC DST with ID:/path on one side', completes: 'files' },
  logs: { run: lazy(observe, (m) => m.logs), help: 'logs ID [-f]: the sandbox\'s start command output and guest log', completes: 'sandbox' },
  top: { run: lazy(observe, (m) => m.top), help: 'CPU, memory, pids and disk per sandbox, live (--once: one table)' },
  timeout: { run: lazy(sandboxes, (m) => m.timeout), help: 'timeout ID SECONDS: restart the sandbox\'s timer', completes: 'sandbox' },
  pause: { run: lazy(sandboxes, (m) => m.pause), help: 'pause a sandbox', completes: 'sandbox' },
  resume: { run: lazy(sandboxes, (m) => m.resume), help: 'resume a sandbox', completes: 'sandbox' },
  kill: { run: lazy(sandboxes, (m) => m.kill), help: 'kill a sandbox and remove its files', completes: 'sandbox' },
  template: { run: lazy(admin, (m) => m.template), help: 'template build FILE | template import NAME ARCHIVE [--ref IMAGE] | template ls | template export NAME --oci FILE [--ref IMAGE] [--with-guest]', completes: ['build', 'import', 'ls', 'export'] },
  pool: { run: lazy(admin, (m) => m.pool), help: 'pool set TEMPLATE --size N | pool ls', completes: ['set', 'ls'] },
  keys: { run: lazy(admin, (m) => m.keys), help: 'keys create|ls|revoke (admin key)', completes: ['create', 'ls', 'revoke'] },
  policy: { run: lazy(policy, (m) => m.policy), help: 'policy [show] | policy set LIMIT=VALUE… (admin key)', completes: ['show', 'set'] },
  tenant: { run: lazy(policy, (m) => m.tenant), help: 'tenant limits TENANT [LIMIT=VALUE…] [--reset] (admin key)', completes: ['limits'] },
  completion: { run: lazy(() => import('./commands/completion.ts'), (m) => m.completion), help: 'completion bash|zsh: the shell completion script (source <(agentbox completion bash))', completes: ['bash', 'zsh'] },
  operator: { run: lazy(k8s, (m) => m.operatorCommand), help: 'run the Kubernetes operator' },
  router: { run: lazy(k8s, (m) => m.routerCommand), help: 'run the Kubernetes sandbox router' },
};
