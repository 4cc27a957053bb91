// The stack of `agentbox up --kubernetes` in one test process, shared by the suites that drive the
// Kubernetes backend (kubernetes-backend, kubernetes-backend-real-node, opensandbox-kubernetes): a
// fresh namespace on the local kube-apiserver, the operator and the sandbox router in-process
// (scoped tokens), SandboxTemplates, optionally the simulated kubelet, and the agentbox server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxTemplate } from '../../src/api/k8s/types.ts';
import { startKubernetesServer, type RunningKubernetesServer } from '../../src/app/kubernetes-server.ts';
import type { RouterAccess } from '../../src/cluster/router-access.ts';
import type { KubeClient } from '../../src/k8s/client.ts';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../src/k8s/operator.ts';
import { TEMPLATES } from '../../src/k8s/resources.ts';
import { startRouter, type RunningRouter } from '../../src/k8s/router/server.ts';
import { createNamespace, deleteNamespace, installCrds } from './harness.ts';
import { ensureRealNode, guestPodSpec, IMAGE } from './real-node.ts';
import { simulatedKubelet } from './simulated-kubelet.ts';

export interface KubernetesStack {
  ns: string;
  op: RunningOperator;
  router: RunningRouter;
  /** How a server reaches the router (for a second replica). */
  routerAccess: RouterAccess;
  server: RunningKubernetesServer;
  /** Where the server keeps its admin key. */
  home: string;
  /** Stops everything started, in reverse order, and deletes the namespace. */
  close(): Promise<void>;
}

export interface StackOptions {
  /** Prefix of the test namespace. */
  namespace: string;
  operator?: Pick<OperatorOptions, 'openSandbox' | 'readinessGraceMs'>;
  /** Play the kubelet for the sandbox pods (test/k8s/simulated-kubelet.ts); false on the real node. */
  simulatedPods: boolean;
  templates?: { name: string; podTemplate: SandboxTemplate['spec']['podTemplate'] }[];
}

export async function startKubernetesStack(client: KubeClient, o: StackOptions): Promise<KubernetesStack> {
  const stops: (() => Promise<void> | void)[] = [];
  const close = async () => { for (const stop of stops.reverse()) await stop(); };
  try {
    await installCrds(client);
    const ns = await createNamespace(client, o.namespace);
    stops.push(() => deleteNamespace(client, ns));
    const op = await startOperator({ client, namespace: ns, extensions: true, ...o.operator });
    stops.push(() => op.stop());
    const auth = { mode: 'scoped-token' as const, key: Buffer.from(`${o.namespace}-router-key`.padEnd(32, 'k')) };
    const router = await startRouter({ port: 0, host: '127.0.0.1', client, namespaces: [ns], auth, clusterDomain: '' });
    stops.push(() => router.close());
    if (o.simulatedPods) {
      const kubelet = simulatedKubelet(client, ns);
      stops.push(() => kubelet.stop());
    }
    for (const t of o.templates ?? []) await client.create(TEMPLATES, ns, { metadata: { name: t.name }, spec: { podTemplate: t.podTemplate } });
    const home = mkdtempSync(join(tmpdir(), `agentbox-${o.namespace}-home-`));
    stops.push(() => rmSync(home, { recursive: true, force: true }));
    const routerAccess = { url: `http://127.0.0.1:${router.port}`, auth };
    const server = await startKubernetesServer({ client, namespace: ns, router: routerAccess, home, host: '127.0.0.1', port: 0, log: () => {} });
    stops.push(() => server.close());
    return { ns, op, router, routerAccess, server, home, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The stack over the real node (scripts/k8s-node.sh) with the template `base`: agentbox's base
 * image with the guest injected and `user` as the default user, as the E2B SDKs expect. The
 * reason to skip when there is no real node (outside CI).
 */
export async function startRealNodeStack(client: KubeClient, namespace: string): Promise<KubernetesStack | { skip: string }> {
  const node = await ensureRealNode(client);
  if ('skip' in node) return node;
  return startKubernetesStack(client, {
    namespace, simulatedPods: false,
    templates: [{ name: 'base', podTemplate: {
      metadata: { annotations: { 'agentbox.dev/inject-guest': IMAGE.guest, 'agentbox.dev/default-user': 'user' } },
      spec: guestPodSpec('agentbox.local/base:latest'),
    } }],
  });
}
