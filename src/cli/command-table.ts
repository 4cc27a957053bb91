/**
 * Every `agentbox` command: how it runs, its one-line help, its flags, and what shell completion
 * offers after it. `main.ts` dispatches from this table, each command parses its arguments with
 * the flags declared here (`parseFlags(args, flagsOf('create'))`), and
 * `commands/completion.ts` generates the bash and zsh scripts from it, so a new command or flag
 * is one line here. The commands' modules are not loaded to read it.
 */
import { ListedState, OnTimeout, RuntimeName } from '../api/native.ts';
import type { Command, Flag } from './io.ts';

export interface CommandEntry {
  run: Command;
  help: string;
  /** For completion: the words its first argument takes, or `sandbox` (an id of `ls --quiet`), or `files`. */
  completes?: readonly string[] | 'sandbox' | 'files';
  /** Its options, for every subcommand it has; none when absent. */
  flags?: readonly Flag[];
}

const json: Flag = { name: 'json', help: 'print JSON' };
const runtime: Flag = { name: 'runtime', value: 'RUNTIME', help: 'the sandbox runtime', completes: RuntimeName.options };
const template: Flag = { name: 'template', value: 'TEMPLATE', help: 'the template', completes: 'template' };
const env: Flag = { name: 'env', value: 'K=V', repeats: true, help: 'an environment variable (repeatable)' };
const metadata: Flag = { name: 'metadata', value: 'K=V', repeats: true, help: 'a metadata pair (repeatable)' };
const user: Flag = { name: 'user', value: 'USER', help: 'run as this user in the sandbox' };
const cwd: Flag = { name: 'cwd', value: 'DIR', help: 'working directory in the sandbox' };
const host: Flag = { name: 'host', value: 'HOST', help: 'address the API listens on (default 127.0.0.1)' };
const port: Flag = { name: 'port', value: 'PORT', help: 'port the API listens on (default 7420)' };
const home: Flag = { name: 'home', value: 'DIR', help: 'the state directory', completes: 'files' };
const count = (name: string, help: string): Flag => ({ name, value: 'N', help });
const file = (name: string, help: string): Flag => ({ name, value: 'FILE', help, completes: 'files' });

/** Kubernetes roles, written by the Kubernetes side (src/k8s/cli.ts); loaded only when used. */
const k8s = () => import('../k8s/cli.ts');

/** Commands load their module on use: `up` pulls in the engine, `ls` should not pay for it. */
const lazy = <M>(load: () => Promise<M>, pick: (m: M) => Command): Command => async (args, io) => pick(await load())(args, io);
const sandboxes = () => import('./commands/sandboxes.ts');
const admin = () => import('./commands/admin.ts');
const policy = () => import('./commands/policy.ts');
const observe = () => import('./commands/observe.ts');
const service = () => import('./commands/service.ts');

export const COMMANDS = {
  up: {
    run: lazy(() => import('./commands/up.ts'), (m) => m.up), help: 'start the server (state in $AGENTBOX_HOME, API on 127.0.0.1:7420)',
    flags: [
      host, port, { ...runtime, help: 'the default sandbox runtime' }, { name: 'domain', value: 'DOMAIN', help: 'the domain of sandbox URLs' },
      { ...template, help: 'a template to build at start' }, file('tls-cert', 'TLS certificate (PEM), with --tls-key'), file('tls-key', 'TLS key (PEM), with --tls-cert'),
      { name: 'no-base', help: 'do not build the base template' },
      { name: 'kubernetes', help: 'serve sandboxes from a Kubernetes cluster (docs/kubernetes.md)' },
      { name: 'namespace', value: 'NS', help: 'with --kubernetes: the sandbox namespace' }, file('kubeconfig', 'with --kubernetes: the kubeconfig'),
      { name: 'router-url', value: 'URL', help: 'with --kubernetes: the sandbox router' },
      { name: 'router-authz-mode', value: 'MODE', help: 'with --kubernetes: scoped-token, token or allow-all' },
      file('router-scoped-token-key-file', 'with --kubernetes: the key of scoped router tokens'), file('router-token-file', 'with --kubernetes: the router token'),
      { name: 'volume-storage-class', value: 'CLASS', help: 'with --kubernetes: the storage class of volumes\' PVCs (default: the cluster\'s default)' },
      { name: 'volume-access-mode', value: 'MODE', help: 'with --kubernetes: ReadWriteOnce (default: one node) or ReadWriteMany' },
    ],
  },
  service: {
    run: lazy(service, (m) => m.service), help: 'service install [--home DIR] [--port P] | service uninstall: `agentbox up` as a systemd service', completes: ['install', 'uninstall'],
    flags: [home, host, port, runtime, { name: 'unit-dir', value: 'DIR', help: 'where the unit goes (default /etc/systemd/system)', completes: 'files' }],
  },
  doctor: { run: lazy(() => import('./commands/doctor.ts'), (m) => m.doctor), help: 'check what is installed and what to fix', flags: [json] },
  create: {
    run: lazy(sandboxes, (m) => m.create), help: 'create a sandbox and print its id (its timeout on stderr)',
    flags: [
      { ...template, help: 'the template to start from (default base)' }, runtime, env, metadata,
      count('timeout', 'seconds until the timeout acts'), { name: 'on-timeout', value: 'ACTION', help: 'what the timeout does', completes: OnTimeout.options },
      { name: 'auto-resume', help: 'resume when paused and reached' },
      { name: 'volume', value: 'NAME:PATH', repeats: true, help: 'mount a volume at PATH (repeatable)' }, json,
    ],
  },
  ls: {
    run: lazy(sandboxes, (m) => m.ls), help: 'list sandboxes (--quiet: ids only)',
    flags: [{ name: 'state', value: 'STATE', help: 'only in this state', completes: ListedState.options }, metadata, { ...template, help: 'only of this template' }, json, { name: 'quiet', help: 'ids only' }],
  },
  exec: {
    run: lazy(sandboxes, (m) => m.exec), help: 'run a command: exec ID -- CMD…', completes: 'sandbox',
    flags: [cwd, user, env, count('timeout-ms', 'milliseconds the command may run'), { name: 'stdin', short: 'i', help: 'send standard input, read to its end, to the command (any bytes, at most 8 MiB)' }],
  },
  shell: { run: lazy(() => import('./commands/shell.ts'), (m) => m.shell), help: 'interactive shell in a sandbox', completes: 'sandbox', flags: [user, cwd] },
  cp: { run: lazy(() => import('./commands/cp.ts'), (m) => m.cp), help: 'copy a file: cp SRC DST with ID:/path on one side or both; streamed, any size; a directory DST takes the file under its own name', completes: 'files' },
  logs: {
    run: lazy(observe, (m) => m.logs), help: 'logs ID [-f]: the sandbox\'s start command output and guest log', completes: 'sandbox',
    flags: [{ name: 'follow', short: 'f', help: 'keep printing as it comes' }],
  },
  events: {
    run: lazy(observe, (m) => m.events), help: 'events [ID] [-f]: lifecycle events (created, updated, paused, resumed, killed) of your sandboxes or one', completes: 'sandbox',
    flags: [{ name: 'follow', short: 'f', help: 'keep printing new events as they happen' }, json],
  },
  top: {
    run: lazy(observe, (m) => m.top), help: 'CPU, memory, pids and disk per sandbox, live (--once: one table)',
    flags: [count('interval', 'seconds between samples (default 2)'), { name: 'once', help: 'print one table and exit' }],
  },
  timeout: { run: lazy(sandboxes, (m) => m.timeout), help: 'timeout ID SECONDS: restart the sandbox\'s timer', completes: 'sandbox' },
  pause: { run: lazy(sandboxes, (m) => m.pause), help: 'pause a sandbox', completes: 'sandbox' },
  resume: { run: lazy(sandboxes, (m) => m.resume), help: 'resume a sandbox', completes: 'sandbox' },
  kill: { run: lazy(sandboxes, (m) => m.kill), help: 'kill a sandbox and remove its files', completes: 'sandbox' },
  template: {
    run: lazy(admin, (m) => m.template), help: 'template build FILE | template import NAME ARCHIVE [--ref IMAGE] | template ls | template export NAME --oci FILE [--ref IMAGE] [--with-guest]', completes: ['build', 'import', 'ls', 'export'],
    flags: [
      { name: 'ref', value: 'IMAGE', help: 'import, export: the image reference' }, file('oci', 'export: the OCI archive to write'),
      { name: 'with-guest', help: 'export: add the guest bundle' }, json, { name: 'quiet', help: 'ls: names only' },
    ],
  },
  pool: {
    run: lazy(admin, (m) => m.pool), help: 'pool set TEMPLATE --size N | pool ls', completes: ['set', 'ls'],
    flags: [
      count('size', 'a fixed number of ready sandboxes'), count('buffer-min', 'fewest ready spares'), count('buffer-max', 'most ready spares'),
      count('pool-min', 'fewest sandboxes in the pool'), count('pool-max', 'most sandboxes in the pool'), json,
    ],
  },
  volumes: {
    run: lazy(admin, (m) => m.volumes), help: 'volumes create NAME [--size MIB] | volumes ls | volumes rm NAME', completes: ['create', 'ls', 'rm'],
    flags: [count('size', 'create: the size in MiB (default: the policy\'s diskMiB)'), json, { name: 'quiet', help: 'ls: names only' }],
  },
  keys: {
    run: lazy(admin, (m) => m.keys), help: 'keys create|ls|revoke (admin key)', completes: ['create', 'ls', 'revoke'],
    flags: [{ name: 'tenant', value: 'TENANT', help: 'create: the key\'s tenant' }, { name: 'name', value: 'NAME', help: 'create: a name to tell it by' }, { name: 'admin', help: 'create: an admin key' }, json],
  },
  policy: { run: lazy(policy, (m) => m.policy), help: 'policy [show] | policy set LIMIT=VALUE… (admin key)', completes: ['show', 'set'], flags: [json] },
  tenant: { run: lazy(policy, (m) => m.tenant), help: 'tenant limits TENANT [LIMIT=VALUE…] [--reset] (admin key)', completes: ['limits'], flags: [{ name: 'reset', help: 'drop the tenant\'s overrides' }, json] },
  completion: { run: lazy(() => import('./commands/completion.ts'), (m) => m.completion), help: 'completion bash|zsh: the shell completion script (source <(agentbox completion bash))', completes: ['bash', 'zsh'] },
  operator: { run: lazy(k8s, (m) => m.operatorCommand), help: 'run the Kubernetes operator' },
  router: { run: lazy(k8s, (m) => m.routerCommand), help: 'run the Kubernetes sandbox router' },
  node: { run: lazy(() => import('../k8s/node/cli.ts'), (m) => m.nodeCommand), help: 'run the node agent of a gVisor Kubernetes node (memory hibernation)', completes: ['wrapper'] },
} satisfies Record<string, CommandEntry>;

export type CommandName = keyof typeof COMMANDS;

/** The entry of `name` when it is a command. */
export const commandNamed = (name: string): CommandEntry | undefined => (Object.hasOwn(COMMANDS, name) ? COMMANDS[name as CommandName] : undefined);

/** The flags `command` parses its arguments with: `parseFlags(args, flagsOf('create'))`. */
export const flagsOf = (command: CommandName): readonly Flag[] => (COMMANDS[command] as CommandEntry).flags ?? [];
