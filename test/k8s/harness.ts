// Shared fixture of the Kubernetes tests: a real etcd + kube-apiserver + kube-controller-manager
// started by `npm run k8s:env` (no fake API server), the CRDs from src/api/k8s, one namespace per
// test file, and a stand-in kubelet: there is no node here, so tests set pod status through the
// API exactly as a kubelet would (phase, conditions, IPs).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildAllCrds, type CrdOptions } from '../../src/api/k8s/crds.ts';
import { CRDS, isAlreadyExists, isConflict, isNotFound, KubeClient, NAMESPACES, PODS } from '../../src/k8s/client.ts';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import { KIND, LABEL } from '../../src/api/k8s/constants.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import { controllerRef } from '../../src/k8s/ownership.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { contentHash } from '../../src/k8s/hash.ts';
import { DEFAULT_RUNTIME_CLASS } from '../../src/k8s/sandbox/pod-defaults.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { waitFor } from '../support/wait.ts';

export const KUBECONFIG = join(process.env.AGENTBOX_K8S_HOME ?? join(homedir(), '.cache/agentbox/k8s'), 'kubeconfig');
const root = new URL('../..', import.meta.url).pathname;

let envState: { ok: true } | { ok: false; reason: string } | undefined;

/** Where scripts/k8s-env.sh keeps the kube binaries of its pinned version. */
function kubeBinDir(): string {
  const script = readFileSync(join(root, 'scripts/k8s-env.sh'), 'utf8');
  const pinned = /K8S_VERSION="\$\{AGENTBOX_K8S_VERSION:-(v[0-9.]+)\}"/.exec(script)?.[1];
  if (!pinned) throw new Error('cannot find the pinned K8S_VERSION in scripts/k8s-env.sh');
  return join(dirname(KUBECONFIG), process.env.AGENTBOX_K8S_VERSION ?? pinned, 'bin');
}

/**
 * Starts the local control plane once per process. The one reason to skip: the kube binaries
 * were never built on this machine (outside CI only; `up` would spend minutes building them
 * inside a test). Once they are built, any failure to start is a test failure with its reason.
 */
export function ensureEnv(): string | null {
  if (!envState) {
    if (!existsSync(join(kubeBinDir(), 'kube-apiserver'))) {
      envState = { ok: false, reason: skipOutsideCI('the kube-apiserver binaries are not built', 'run ./scripts/setup.sh --for-tests, or bash scripts/k8s-env.sh build') };
    } else {
      const r = spawnSync('bash', [join(root, 'scripts/k8s-env.sh'), 'up'], { encoding: 'utf8', timeout: 5 * 60_000 });
      if (r.status !== 0 || !existsSync(KUBECONFIG)) {
        throw new Error(`scripts/k8s-env.sh up failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-5).join(' | ')}`);
      }
      envState = { ok: true };
    }
  }
  return envState.ok ? null : envState.reason;
}

export async function adminClient(fieldManager = 'agentbox-test'): Promise<KubeClient> {
  return KubeClient.fromFile(KUBECONFIG, fieldManager);
}

/** Creates or replaces the four CRDs and waits until they are Established. */
export async function installCrds(client: KubeClient, opts: CrdOptions = {}): Promise<void> {
  await ensureRuntimeClass(client, DEFAULT_RUNTIME_CLASS);
  for (const crd of buildAllCrds(opts)) {
    // Replaced only when the schema changed: parallel test files must not reset the conversion
    // webhook address another file has just pointed the CRDs at.
    const hash = contentHash(crd.spec.versions);
    const want = { ...crd, metadata: { ...crd.metadata, annotations: { 'agentbox.dev/schema-hash': hash } } };
    const existing = await client.getOrNull<KubeObject>(CRDS, undefined, crd.metadata.name);
    if (!existing) {
      try { await client.create(CRDS, undefined, want as KubeObject); } catch (e) { if (!isAlreadyExists(e)) throw e; }
    } else if (existing.metadata.annotations?.['agentbox.dev/schema-hash'] !== hash) {
      // The conversion stanza is the running operator's (src/api/k8s/crds.ts buildCrd): kept.
      const conversion = (existing as KubeObject & { spec?: { conversion?: unknown } }).spec?.conversion;
      await client.update(CRDS, { ...want, spec: { ...want.spec, conversion }, metadata: { ...want.metadata, resourceVersion: existing.metadata.resourceVersion } } as KubeObject)
        .catch((e) => { if (!isConflict(e)) throw e; });
    }
  }
  for (const crd of buildAllCrds(opts)) {
    await waitFor(`CRD ${crd.metadata.name} established`, async () => {
      const c = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(CRDS, undefined, crd.metadata.name);
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? true : null;
    }, 30_000);
  }
}

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.delete(NAMESPACES, undefined, name).catch(() => undefined);
}

export { waitFor };

let ipCounter = 1;
/** A fresh loopback address for a pod (no traffic goes anywhere but this machine). */
export function nextPodIp(): string {
  const n = ipCounter++;
  return `127.1.${(n >> 8) & 255}.${n & 255}`;
}

/** Plays the kubelet: marks a pod scheduled, Running and Ready with an IP. */
export async function markPodReady(client: KubeClient, ns: string, name: string, ip = nextPodIp()): Promise<Pod> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  return client.patch<Pod>(PODS, ns, name, {
    status: {
      phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '127.0.0.1', startTime: now,
      conditions: [cond('PodScheduled'), cond('Initialized'), cond('ContainersReady'), cond('Ready')],
    },
  }, 'merge', 'status');
}

export async function markPodPhase(client: KubeClient, ns: string, name: string, phase: 'Succeeded' | 'Failed' | 'Pending'): Promise<Pod> {
  return client.patch<Pod>(PODS, ns, name, { status: { phase } }, 'merge', 'status');
}

/**
 * Background kubelet for a namespace: every pod that appears gets Ready with a loopback IP.
 * Returns a stop function. Bounded: polls every `everyMs`, stops when told.
 */
export function autoKubelet(client: KubeClient, ns: string, filter: (p: Pod) => boolean = () => true, everyMs = 100): () => Promise<void> {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        const pods = await client.list<Pod>(PODS, ns);
        await Promise.all(pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Running'
          && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded' && filter(p))
          .map((p) => markPodReady(client, ns, p.metadata.name!).catch((e) => { if (!isNotFound(e)) throw e; })));
      } catch { /* the namespace may be going away */ }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => { stopped = true; await done; };
}

// `protocol` written out: the CRDs default it (a list-map key must be), so what a test reads back
// equals what it wrote.
export const basicPodSpec = (extra: Record<string, unknown> = {}) => ({
  containers: [{ name: 'main', image: 'agentbox/test:1', ports: [{ containerPort: 8888, protocol: 'TCP' }] }],
  ...extra,
});

const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', plural: 'runtimeclasses', kind: 'RuntimeClass' };

/**
 * The RuntimeClass the operator puts on pods by default; the API server's RuntimeClass admission
 * refuses pods naming one that does not exist, as on a real cluster without gVisor installed.
 */
export async function ensureRuntimeClass(client: KubeClient, name: string): Promise<void> {
  try {
    await client.create(RUNTIME_CLASSES, undefined, { metadata: { name }, handler: 'runsc' } as KubeObject);
  } catch (e) { if (!isAlreadyExists(e)) throw e; }
}

/** A Sandbox object as a user would create it, without the operator (router tests). */
export async function createSandboxObject(client: KubeClient, ns: string, name: string, extra: { labels?: Record<string, string>; status?: Record<string, unknown> } = {}): Promise<Sandbox> {
  let sb = await client.create<Sandbox>(SANDBOXES, ns, {
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { podTemplate: { spec: basicPodSpec() } },
  } as unknown as Sandbox);
  if (extra.status) sb = await client.patch<Sandbox>(SANDBOXES, ns, name, { status: extra.status }, 'merge', 'status');
  return sb;
}

/** A pod controlled by `sb`, as the operator would make it, made Ready on `ip` by the stand-in kubelet. */
export async function createSandboxPod(client: KubeClient, sb: Sandbox, podName: string, ip: string, labels: Record<string, string> = {}): Promise<Pod> {
  await client.create<Pod>(PODS, sb.metadata.namespace, {
    metadata: {
      name: podName, labels: { [LABEL.sandboxNameHash]: nameHash(sb.metadata.name!), ...labels },
      ownerReferences: [controllerRef(sb, KIND.Sandbox)],
    },
    spec: basicPodSpec(),
  } as Pod);
  return markPodReady(client, sb.metadata.namespace!, podName, ip);
}
