/**
 * `agentbox up --kubernetes`: the same server over a cluster (docs/kubernetes.md). The cluster is
 * the current kubeconfig context (or --kubeconfig), or the pod's service account in a
 * Deployment; sandboxes, tenants and keys live in --namespace. Pods are reached through the
 * sandbox router (`agentbox router`), with its authorisation mode and secret.
 */
import { startKubernetesServer } from '../../app/kubernetes-server.ts';
import { VOLUME_ACCESS_MODES, type VolumeAccessMode } from '../../api/k8s/constants.ts';
import { KubeClient } from '../../k8s/client.ts';
import { routerAuth } from '../../k8s/cli.ts';
import { agentboxHome } from '../../sdk/config.ts';
import { print, UsageError, type CliIo } from '../io.ts';

const USAGE = 'usage: agentbox up --kubernetes [--namespace NS] [--kubeconfig PATH] --router-url URL [--router-authz-mode scoped-token|token|allow-all] '
  + '[--router-scoped-token-key-file F | --router-token-file F] [--host H] [--port P] [--domain D] [--volume-storage-class C] [--volume-access-mode ReadWriteOnce|ReadWriteMany]';

export async function upKubernetes(flags: Record<string, string | undefined>, io: CliIo): Promise<number> {
  const routerUrl = flags['router-url'] ?? io.env.AGENTBOX_ROUTER_URL;
  if (!routerUrl) throw new UsageError(`--router-url (or AGENTBOX_ROUTER_URL) is required: the sandbox router's address, e.g. http://sandbox-router-svc.agent-sandbox-system:8080\n${USAGE}`);
  const auth = routerAuth(flags['router-authz-mode'] ?? 'scoped-token', flags['router-token-file'] ?? '', flags['router-scoped-token-key-file'] ?? '');
  const namespace = flags.namespace ?? 'default';
  const storageClass = flags['volume-storage-class'] ?? io.env.AGENTBOX_VOLUME_STORAGE_CLASS;
  const accessMode = flags['volume-access-mode'] ?? io.env.AGENTBOX_VOLUME_ACCESS_MODE;
  if (accessMode && !(VOLUME_ACCESS_MODES as readonly string[]).includes(accessMode)) throw new UsageError(`--volume-access-mode must be ${VOLUME_ACCESS_MODES.join(' or ')}, not '${accessMode}'\n${USAGE}`);
  const client = await KubeClient.fromFile(flags.kubeconfig, 'agentbox-server');
  const log = (msg: string, fields?: Record<string, unknown>) => io.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), msg, ...fields })}\n`);
  // In a Deployment the admin key comes from a Secret (AGENTBOX_ADMIN_KEY); locally it is kept in $AGENTBOX_HOME like `agentbox up`'s.
  const adminKey = io.env.AGENTBOX_ADMIN_KEY;
  const server = await startKubernetesServer({
    client, namespace, router: { url: routerUrl, auth }, log,
    host: flags.host ?? '127.0.0.1', port: flags.port === undefined ? 7420 : Number(flags.port),
    ...(flags.domain ? { domain: flags.domain } : {}),
    volumes: { ...(storageClass ? { storageClass } : {}), ...(accessMode ? { accessMode: accessMode as VolumeAccessMode } : {}) },
    ...(adminKey ? { adminKey } : { home: agentboxHome(io.env) }),
  });
  print(io, `agentbox is running on ${server.url} (Kubernetes namespace ${namespace}, router ${routerUrl}, authz ${auth.mode})`);
  if (server.adminKeyPath) print(io, `admin key: ${server.adminKeyPath} (mode 0600)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  client.close();
  return 0;
}
