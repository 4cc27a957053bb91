// The real node of scripts/k8s-node.sh for the tests that run real pods: its name, its images,
// and kubectl against it. Pods that want it name its scheduler (the tests that play the kubelet
// keep theirs unscheduled that way).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { NODES, PODS, type KubeClient } from '../../src/k8s/client.ts';
import { generateWebhookCerts } from '../../src/k8s/conversion/certs.ts';
import { agentAtNodeIP, HttpNodeAgents, NODE_AGENT_TLS_NAME } from '../../src/k8s/node/client.ts';
import type { NodeRuntime } from '../../src/k8s/node/runtime.ts';
import { startNodeAgentServer, type RunningNodeAgent } from '../../src/k8s/node/server.ts';
import { NodeSnapshots } from '../../src/k8s/node/snapshots.ts';
import type { S3SnapshotStore } from '../../src/k8s/node/store.ts';
import type { KubeObject, PodSpec } from '../../src/api/k8s/types.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { KUBECONFIG, waitFor } from './harness.ts';

/** The real node's state directory, and the runsc wrapper its gVisor shim runs (scripts/k8s-node.sh). */
export const NODE_DIR = join(dirname(KUBECONFIG), 'node');
export const RUNSC_WRAPPER = join(NODE_DIR, 'runsc-wrapper');

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

export const NODE_SCHEDULER = 'agentbox-real-node';
/** Imported by `bash scripts/k8s-env.sh images`; pods must not try to pull them. */
export const IMAGE = { busybox: 'agentbox.local/busybox:latest', guest: 'agentbox.local/guest:0.1.0', codeInterpreter: 'agentbox.local/code-interpreter-v1:latest' };

/**
 * A start command that takes seconds, as an agent's does: it imports pandas (the seconds it took
 * go to /tmp/ready, which the readiness probe waits for), then counts in its own memory from a
 * random start, each value written to /tmp/count by rename.
 */
const PYTHON_START = [
  'import os, random, time',
  't = time.time()',
  'import pandas',
  "open('/tmp/ready.new', 'w').write('%.3f' % (time.time() - t)); os.rename('/tmp/ready.new', '/tmp/ready')",
  'i = random.randrange(1 << 30) * 1000',
  'while True:',
  "    i += 1; open('/tmp/c.new', 'w').write(str(i)); os.rename('/tmp/c.new', '/tmp/count'); time.sleep(0.05)",
].join('\n');

/** A pod template of the code-interpreter image running PYTHON_START, Ready once pandas is imported. */
export function pythonPodTemplate(schedulerName: string, annotations: Record<string, string> = {}) {
  return {
    metadata: { annotations },
    spec: {
      schedulerName, terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'main', image: IMAGE.codeInterpreter, imagePullPolicy: 'IfNotPresent', command: ['python3', '-c', PYTHON_START],
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
      }],
    },
  };
}

/**
 * The pod spec of a template whose pods run on the real node with agentbox's injected guest. The
 * guest runs as root, as in a single-node sandbox: it makes the runtime's /app and switches users
 * for commands (setgroups), which the operator's default drop-ALL forbids.
 */
export function guestPodSpec(image: string): PodSpec {
  return {
    schedulerName: NODE_SCHEDULER,
    containers: [{
      name: 'main', image, imagePullPolicy: 'IfNotPresent',
      securityContext: { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SETUID', 'SETGID', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL'] } },
    }],
  };
}

type Node = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

/**
 * The Ready real node, with its images imported (imported here when they are missing, which
 * builds the templates once). Null when there is none outside CI, with the reason on `skip`.
 */
export async function ensureRealNode(client: KubeClient): Promise<{ name: string } | { skip: string }> {
  const nodes = (await client.list<Node>(NODES, undefined, { labelSelector: 'agentbox.dev/real-node=true' })).items;
  if (nodes.length === 0) return { skip: skipOutsideCI('no real node is registered', 'start it with npm run k8s:env (AGENTBOX_K8S_NODE unset)') };
  const name = nodes[0]!.metadata.name!;
  await waitFor(`node ${name} Ready`, async () => {
    const n = await client.get<Node>(NODES, undefined, name);
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : null;
  }, 120_000);
  // Asynchronously: an import takes minutes, and a blocked event loop would leave the client's
  // idle keep-alive sockets to the API server closed under it (the next request: socket hang up).
  await run('bash', [join(root, 'scripts/k8s-env.sh'), 'images'], { encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 64 << 20 }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`scripts/k8s-env.sh images failed: ${(err.stderr || err.message).trim().split('\n').slice(-5).join(' | ')}`);
  });
  return { name };
}

/** The real node and the runsc its wrapper runs (`REAL=`), for what checkpoints its pods. */
export async function ensureGvisorNode(client: KubeClient): Promise<{ name: string; runsc: string } | { skip: string }> {
  const node = await ensureRealNode(client);
  if ('skip' in node) return node;
  if (!existsSync(RUNSC_WRAPPER)) return { skip: skipOutsideCI('the node has no runsc wrapper', 'restart it with bash scripts/k8s-env.sh up') };
  return { name: node.name, runsc: /^REAL=(.+)$/m.exec(readFileSync(RUNSC_WRAPPER, 'utf8'))![1]! };
}

/**
 * The real node's agent, run in this process at the node's InternalIP (where the operator finds
 * it; a cluster runs it as the DaemonSet in deploy/), over the node's shim state and snapshots
 * directory, serving HTTPS as deployed, and the operator's client of it with a fresh token that
 * trusts only the agent's fresh certificate.
 */
export async function startRealNodeAgent(client: KubeClient, node: { name: string; runsc: string },
  o: { runtime?: NodeRuntime; store?: S3SnapshotStore } = {}): Promise<{ agent: RunningNodeAgent; nodeAgents: HttpNodeAgents }> {
  const token = randomBytes(24).toString('hex');
  const certs = generateWebhookCerts([NODE_AGENT_TLS_NAME], []);
  const host = new URL(await agentAtNodeIP(client, 0)(node.name)).hostname;
  const agent = await startNodeAgentServer({
    snapshots: new NodeSnapshots({ node: node.name, runsc: { binary: o.runtime?.path ?? node.runsc, root: join(NODE_DIR, 'containerd/runsc/k8s.io') }, dir: join(NODE_DIR, 'snapshots'), store: o.store }),
    runtime: o.runtime, token, tls: { cert: certs.certPem, key: certs.keyPem }, host, port: 0,
  });
  return { agent, nodeAgents: new HttpNodeAgents({ token, urlOf: agentAtNodeIP(client, agent.port, 'https'), tls: { ca: certs.caPem } }) };
}

export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { timeout: 60_000 });
  return stdout;
}

const isReady = (p: Pod | null) => !p?.metadata.deletionTimestamp && p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits until the kubelet reports pod `name` Ready (a different pod than `notUid`, when given). */
export function podReady(client: KubeClient, ns: string, name: string, notUid?: string, timeoutMs = 120_000): Promise<Pod> {
  return waitFor(`pod ${name} Ready`, async () => {
    const p = await client.getOrNull<Pod>(PODS, ns, name);
    return p && isReady(p) && p.metadata.uid !== notUid ? p : null;
  }, timeoutMs, 200);
}
