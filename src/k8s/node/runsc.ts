// runsc against the state of the node's gVisor containerd shim: which gVisor sandbox is a pod's,
// and its checkpoint. The node agent runs runsc directly (as the shim itself does for its
// Checkpoint, pkg/shim/v1/runsc/service.go) rather than the shim's ttrpc GvisorTaskService:
// the same operation, without a ttrpc client in Node, and with the shim's root as its only input.
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AgentboxError } from '../../api/errors.ts';
import type { SnapshotContainer } from './manifest.ts';

const run = promisify(execFile);

/** CRI's annotations on every container of a pod (containerd's pkg/cri/annotations). */
const CRI = {
  type: 'io.kubernetes.cri.container-type',
  namespace: 'io.kubernetes.cri.sandbox-namespace',
  name: 'io.kubernetes.cri.sandbox-name',
  uid: 'io.kubernetes.cri.sandbox-uid',
  container: 'io.kubernetes.cri.container-name',
  image: 'io.kubernetes.cri.image-name',
} as const;

interface ContainerState { id: string; status: string; pid: number; bundle: string; annotations?: Record<string, string> }

export interface PodSandbox {
  /** The gVisor sandbox id: the id of the pod's sandbox (pause) container. */
  id: string;
  /** The host PID of the sandbox process (the sentry). */
  pid: number;
  containers: SnapshotContainer[];
}

export interface Runsc {
  /** The real runsc binary (not the wrapper). */
  binary: string;
  /** The shim's runsc root for containerd's k8s.io namespace. */
  root: string;
}

export async function listContainers(r: Runsc): Promise<ContainerState[]> {
  const { stdout } = await run(r.binary, ['--root', r.root, 'list', '-format=json'], { maxBuffer: 16 << 20 });
  return (JSON.parse(stdout) as ContainerState[] | null) ?? [];
}

/** The running gVisor sandbox of pod namespace/name with that UID; not_found when this node runs none. */
export async function findPodSandbox(r: Runsc, pod: { namespace: string; name: string; uid: string }): Promise<PodSandbox> {
  const mine = (await listContainers(r)).filter((c) => c.annotations?.[CRI.namespace] === pod.namespace
    && c.annotations?.[CRI.name] === pod.name && c.annotations?.[CRI.uid] === pod.uid);
  const sandbox = mine.find((c) => c.annotations?.[CRI.type] === 'sandbox' && c.status === 'running');
  if (!sandbox) {
    throw new AgentboxError('not_found', `pod ${pod.namespace}/${pod.name} (uid ${pod.uid}) has no running gVisor sandbox on this node`, { details: { pod } });
  }
  const containers = mine.filter((c) => c.annotations?.[CRI.type] === 'container' && c.status === 'running')
    .map((c) => ({ name: c.annotations![CRI.container]!, image: c.annotations![CRI.image] ?? '' }));
  if (containers.length === 0) throw new AgentboxError('conflict', `pod ${pod.namespace}/${pod.name} has no running container to checkpoint`);
  return { id: sandbox.id, pid: sandbox.pid, containers };
}

/**
 * The runsc binary a running sandbox was started from, its sentry's executable: the binary a
 * checkpoint of it must be made and recorded with, even if the node's runsc changed since
 * (runtime.ts). Undefined when the process or the file is gone.
 */
export function sandboxBinary(pid: number): Promise<string | undefined> {
  return realpath(`/proc/${pid}/exe`).catch(() => undefined);
}

/** Checkpoints the whole gVisor sandbox into `imagePath`; its containers end, as runsc does, unless `leaveRunning`. */
export async function checkpoint(r: Runsc, sandboxId: string, imagePath: string, leaveRunning = false): Promise<void> {
  try {
    await run(r.binary, ['--root', r.root, 'checkpoint', ...(leaveRunning ? ['--leave-running'] : []), '--image-path', imagePath, sandboxId], { maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new AgentboxError('internal', `runsc checkpoint of sandbox ${sandboxId} failed: ${(err.stderr || err.message).trim().slice(-1000)}`);
  }
}
