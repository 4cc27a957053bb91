// `agentbox node`: the node agent of one gVisor node (docs/kubernetes-hibernation.md), and
// `agentbox node wrapper`, which prints the runsc wrapper (what scripts/k8s-node.sh installs).
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { NODE_AGENT_PORT } from '../../api/k8s/node-agent.ts';
import { parseFlags } from '../flags.ts';
import { startNodeAgentServer } from './server.ts';
import { NodeRuntime } from './runtime.ts';
import { NodeSnapshots } from './snapshots.ts';
import { S3SnapshotStore } from './store.ts';
import { renderWrapper } from './wrapper.ts';

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

export const DEFAULT_SNAPSHOTS_DIR = '/var/lib/agentbox/snapshots';

const required = (flags: Record<string, unknown>, names: string[]) => {
  const missing = names.filter((n) => !flags[n]);
  if (missing.length) throw new AgentboxError('invalid_argument', `agentbox node needs ${missing.map((n) => `--${n}`).join(', ')}`);
};

/** Writes the wrapper beside its final path and renames it there: the shim never runs half a file. */
async function installWrapper(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.new`, content);
  await chmod(`${path}.new`, 0o755);
  await rename(`${path}.new`, path);
}

export async function nodeCommand(args: string[]): Promise<number> {
  if (args[0] === 'wrapper') {
    const f = parseFlags(args.slice(1), { runsc: '', snapshots: DEFAULT_SNAPSHOTS_DIR });
    required(f, ['runsc']);
    process.stdout.write(renderWrapper({ runsc: f.runsc, snapshots: f.snapshots }));
    return 0;
  }
  const f = parseFlags(args, {
    'node-name': process.env.NODE_NAME ?? '', runsc: '', 'runsc-root': '', snapshots: DEFAULT_SNAPSHOTS_DIR,
    'token-file': '', host: '0.0.0.0', port: NODE_AGENT_PORT, 'install-wrapper': '', 'runtime-dir': '',
    store: 'node', 's3-bucket': '', 's3-endpoint': '', 's3-region': 'us-east-1', 's3-prefix': '',
    'tls-cert-file': '', 'tls-key-file': '',
  });
  required(f, ['node-name', 'runsc', 'runsc-root', 'token-file']);
  if (f.store !== 'node' && f.store !== 's3') throw new AgentboxError('invalid_argument', `--store is node or s3, not ${JSON.stringify(f.store)}`);
  if (f.store === 's3') required(f, ['s3-bucket']);
  const token = (await readFile(f['token-file'], 'utf8')).trim();
  if (token.length < 32) throw new AgentboxError('invalid_argument', `--token-file ${f['token-file']} holds ${token.length} characters; use at least 32 random ones`);
  await mkdir(f.snapshots, { recursive: true, mode: 0o700 });
  // With --runtime-dir the node runs the runsc its SandboxConfig names, through a link there
  // that starts out at --runsc (runtime.ts); the wrapper and the agent run the link.
  const runtime = f['runtime-dir'] ? new NodeRuntime({ dir: f['runtime-dir'], initial: f.runsc }) : undefined;
  await runtime?.init();
  const runsc = runtime?.path ?? f.runsc;
  if (f['install-wrapper']) {
    await installWrapper(f['install-wrapper'], renderWrapper({ runsc, snapshots: f.snapshots }));
    log('runsc wrapper installed', { path: f['install-wrapper'] });
  }
  const store = f.store === 's3'
    ? new S3SnapshotStore({ bucket: f['s3-bucket'], endpoint: f['s3-endpoint'] || undefined, region: f['s3-region'], prefix: f['s3-prefix'] })
    : undefined;
  if (!f['tls-cert-file'] !== !f['tls-key-file']) throw new AgentboxError('invalid_argument', 'give both --tls-cert-file and --tls-key-file, or neither');
  const tls = f['tls-cert-file'] ? { cert: await readFile(f['tls-cert-file'], 'utf8'), key: await readFile(f['tls-key-file'], 'utf8') } : undefined;
  if (!tls) log('serving plain HTTP: the token and every request cross the node network in the clear; give --tls-cert-file and --tls-key-file');
  const snapshots = new NodeSnapshots({ node: f['node-name'], runsc: { binary: runsc, root: f['runsc-root'] }, dir: f.snapshots, store });
  const server = await startNodeAgentServer({ snapshots, runtime, token, tls, host: f.host, port: f.port, log });
  log('node agent listening', { node: f['node-name'], port: server.port, tls: !!tls, snapshots: f.snapshots });
  await new Promise<void>((r) => { process.once('SIGTERM', () => r()); process.once('SIGINT', () => r()); });
  await server.close();
  store?.close();
  return 0;
}
