// `agentbox operator` and `agentbox router`: flags → composition. Flag names and defaults follow
// upstream's agent-sandbox-controller and sandbox-router where they exist.
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { AgentboxError } from '../api/errors.ts';
import { KubeClient } from './client.ts';
import { parseBind, parseFlags } from './flags.ts';
import { LeaderElector } from './leader.ts';
import { OperatorMetrics } from './metrics.ts';
import { startOperator, type RunningOperator } from './operator.ts';
import { generateWebhookCerts } from './conversion/certs.ts';
import { patchCrdConversion, startConversionWebhook, type RunningWebhook } from './conversion/webhook.ts';
import { startRouter } from './router/server.ts';
import { mintScopedToken, type AuthMode } from './router/auth.ts';
import { DEFAULT_RUNTIME_CLASS } from './sandbox/pod-defaults.ts';
import type { WebhookTarget } from '../api/k8s/crds.ts';
import { DEFAULT_GUEST_IMAGE } from './opensandbox/pod-template.ts';
import { startExternalScaler, type RunningExternalScaler } from './keda/external-scaler.ts';
import { agentAtNodeIP, HttpNodeAgents, NODE_AGENT_TLS_NAME } from './node/client.ts';
import { DEFAULT_RUNTIME_NODE_SELECTOR } from './runtime/controller.ts';
import { NODE_AGENT_PORT } from '../api/k8s/node-agent.ts';

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

function untilSignal(): Promise<void> {
  return new Promise((r) => {
    process.once('SIGTERM', () => r());
    process.once('SIGINT', () => r());
  });
}

function serve(bind: { host: string; port: number }, handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => resolve(server));
  });
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's own namespace when running in a cluster (what client-go's in-cluster config reads). */
function inClusterNamespace(): string | undefined {
  if (!process.env.KUBERNETES_SERVICE_HOST || !existsSync(`${SERVICE_ACCOUNT_DIR}/namespace`)) return undefined;
  return readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim() || undefined;
}

export async function operatorCommand(args: string[]): Promise<number> {
  // Leader election is on in a cluster (several replicas of a Deployment) and off outside one,
  // where a developer runs one process and there may be no namespace for the Lease; its Lease
  // lives in the operator's own namespace, as controller-runtime's does.
  const podNamespace = inClusterNamespace();
  const f = parseFlags(args, {
    kubeconfig: '', namespace: '', extensions: false,
    // OpenSandbox's Pool and BatchSandbox (src/k8s/opensandbox/); needs --extensions and their CRDs.
    opensandbox: false, 'opensandbox-guest-image': DEFAULT_GUEST_IMAGE, 'leader-elect': podNamespace !== undefined,
    'leader-election-namespace': podNamespace ?? 'agent-sandbox-system', 'leader-election-lease-duration': 15,
    'cluster-domain': 'cluster.local', 'runtime-class': DEFAULT_RUNTIME_CLASS,
    'metrics-bind-address': ':8080', 'health-probe-bind-address': ':8081',
    'enable-webhook': true, 'manage-webhook-certs': true, 'webhook-port': 9443,
    'webhook-cert-dir': '', 'webhook-url': '',
    'webhook-service-name': 'agent-sandbox-webhook-service', 'webhook-service-namespace': 'agent-sandbox-system',
    'sandbox-concurrent-workers': 16, 'sandbox-claim-concurrent-workers': 16,
    'sandbox-warm-pool-concurrent-workers': 2, 'sandbox-template-concurrent-workers': 1,
    'sandbox-warm-pool-readiness-grace-period': 300,
    'sandbox-warm-pool-max-batch-size': 300, 'sandbox-warm-pool-create-qps': 0, 'sandbox-claim-max-warm-wait': 10,
    // KEDA's external scaler (gRPC, src/k8s/keda/), e.g. ":9090"; needs --extensions. Off by
    // default: a cluster without KEDA has no use for another open port.
    'keda-external-scaler-bind-address': '0',
    // Memory hibernation: the token shared with the node agents (`agentbox node`), on their port
    // at each node's InternalIP. Without it a Sandbox asking for memory hibernation is told so.
    // With a CA file (the agents' certificate), HTTPS to a certificate issued to the server name.
    'node-agent-token-file': '', 'node-agent-port': NODE_AGENT_PORT, 'runtime-node-selector': DEFAULT_RUNTIME_NODE_SELECTOR,
    'node-agent-ca-file': '', 'node-agent-server-name': NODE_AGENT_TLS_NAME,
  });
  const scalerBind = parseBind(f['keda-external-scaler-bind-address']);
  if (scalerBind && !f.extensions) throw new AgentboxError('invalid_argument', '--keda-external-scaler-bind-address needs --extensions (it scales SandboxWarmPools)');
  const client = await KubeClient.fromFile(f.kubeconfig || undefined, 'agentbox-operator');
  const metrics = new OperatorMetrics();
  let operator: RunningOperator | undefined;
  let webhook: RunningWebhook | undefined;
  let scaler: RunningExternalScaler | undefined;
  const servers: http.Server[] = [];

  const metricsBind = parseBind(f['metrics-bind-address']);
  if (metricsBind) servers.push(await serve(metricsBind, (_req, res) => {
    void metrics.registry.metrics().then((t) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(t));
  }));
  const healthBind = parseBind(f['health-probe-bind-address']);
  if (healthBind) servers.push(await serve(healthBind, (req, res) => {
    // Ready once the caches are synced (and, with leader election, once leading or standing by).
    const ok = req.url === '/healthz' || operator !== undefined || f['leader-elect'];
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
  }));

  if (scalerBind) {
    scaler = await startExternalScaler(scalerBind, {
      view: () => {
        if (!operator?.demand) throw new AgentboxError('unavailable', 'this operator replica is not the leader yet; its caches are not running');
        return operator.demand;
      },
    });
    log('KEDA external scaler listening', { port: scaler.port });
  }

  if (f['enable-webhook']) {
    const dns = [`${f['webhook-service-name']}.${f['webhook-service-namespace']}.svc`, `${f['webhook-service-name']}.${f['webhook-service-namespace']}.svc.${f['cluster-domain']}`, 'localhost'];
    if (!f['webhook-cert-dir'] && !f['manage-webhook-certs']) throw new AgentboxError('invalid_argument', '--manage-webhook-certs=false needs --webhook-cert-dir (tls.crt, tls.key, ca.crt)');
    const certs = f['webhook-cert-dir']
      ? { certPem: readFileSync(`${f['webhook-cert-dir']}/tls.crt`, 'utf8'), keyPem: readFileSync(`${f['webhook-cert-dir']}/tls.key`, 'utf8'), caPem: readFileSync(`${f['webhook-cert-dir']}/ca.crt`, 'utf8') }
      : generateWebhookCerts(dns, ['127.0.0.1']);
    webhook = await startConversionWebhook({ certs, port: f['webhook-port'] });
    // Set whether the certificates are ours or brought in --webhook-cert-dir: the CRD manifests
    // carry no conversion stanza, so nobody else would point them at this webhook.
    const target: WebhookTarget = f['webhook-url']
      ? { url: f['webhook-url'] }
      : { service: { namespace: f['webhook-service-namespace'], name: f['webhook-service-name'], path: '/convert', port: 443 } };
    await patchCrdConversion(client, target, certs.caPem);
    log('conversion webhook ready; CRD conversion patched', { port: webhook.port, ...target });
  }

  const abort = new AbortController();
  let exitCode = 0;
  const elector = f['leader-elect']
    ? new LeaderElector({
      client, namespace: f['leader-election-namespace'], name: 'agentbox-operator-leader',
      leaseDurationSeconds: f['leader-election-lease-duration'],
      renewEveryMs: Math.max(200, (f['leader-election-lease-duration'] * 1000) / 5),
    })
    : undefined;
  const stopped = untilSignal().then(() => abort.abort());
  const closeAll = async () => {
    await webhook?.close();
    await scaler?.close();
    for (const s of servers) { s.closeAllConnections(); s.close(); }
    client.close();
  };
  if (elector) {
    log('waiting for leadership', { identity: elector.identity, namespace: f['leader-election-namespace'] });
    const leading = await elector.run(() => { log('lost leadership; exiting'); exitCode = 1; abort.abort(); }, abort.signal)
      .catch(async (e: unknown) => { await closeAll(); throw e; });
    if (!leading) { await closeAll(); return 0; }
  }
  operator = await startOperator({
    client, metrics, log,
    namespace: f.namespace || undefined,
    extensions: f.extensions,
    openSandbox: f.opensandbox,
    openSandboxGuestImage: f['opensandbox-guest-image'],
    clusterDomain: f['cluster-domain'],
    runtimeClassName: f['runtime-class'],
    sandboxWorkers: f['sandbox-concurrent-workers'],
    claimWorkers: f['sandbox-claim-concurrent-workers'],
    poolWorkers: f['sandbox-warm-pool-concurrent-workers'],
    templateWorkers: f['sandbox-template-concurrent-workers'],
    readinessGraceMs: f['sandbox-warm-pool-readiness-grace-period'] * 1000,
    poolMaxBatch: f['sandbox-warm-pool-max-batch-size'],
    poolCreateQps: f['sandbox-warm-pool-create-qps'],
    claimMaxWarmWaitMs: f['sandbox-claim-max-warm-wait'] * 1000,
    nodeAgents: f['node-agent-token-file']
      ? new HttpNodeAgents({
        token: readFileSync(f['node-agent-token-file'], 'utf8').trim(),
        urlOf: agentAtNodeIP(client, f['node-agent-port'], f['node-agent-ca-file'] ? 'https' : 'http'),
        ...(f['node-agent-ca-file'] ? { tls: { ca: readFileSync(f['node-agent-ca-file'], 'utf8'), serverName: f['node-agent-server-name'] } } : {}),
      })
      : undefined,
    // Empty turns SandboxConfig roll-out off (nodes keep the runsc they were set up with).
    runtimeNodeSelector: f['node-agent-token-file'] && f['runtime-node-selector'] ? f['runtime-node-selector'] : undefined,
  });
  await Promise.race([stopped, new Promise<void>((r) => abort.signal.addEventListener('abort', () => r(), { once: true }))]);
  await operator.stop();
  await elector?.release();
  await closeAll();
  return exitCode;
}

/** `--namespace a,b`: the sandbox namespaces; empty = all. */
const namespaceList = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);

/** The router's authorisation from its flags; `agentbox up --kubernetes` takes the same to reach it. */
export function routerAuth(mode: string, tokenFile: string, keyFile: string): AuthMode {
  if (mode === 'allow-all') return { mode: 'allow-all' };
  if (mode === 'token') {
    const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : process.env.ROUTER_AUTH_TOKEN ?? '';
    if (!token) throw new AgentboxError('invalid_argument', '--authz-mode=token needs --auth-token-file or ROUTER_AUTH_TOKEN');
    return { mode: 'token', token };
  }
  if (mode === 'scoped-token') {
    if (!keyFile) throw new AgentboxError('invalid_argument', '--authz-mode=scoped-token (the default) needs --scoped-token-key-file; see deploy/README.md for the key Secret, or choose --authz-mode=allow-all explicitly');
    const key = readFileSync(keyFile);
    if (key.length < 32) throw new AgentboxError('invalid_argument', `--scoped-token-key-file ${keyFile} holds ${key.length} bytes; use at least 32 random bytes`);
    return { mode: 'scoped-token', key };
  }
  throw new AgentboxError('invalid_argument', `--authz-mode must be scoped-token, token or allow-all (got ${mode})`);
}

/** `agentbox router token`: mints a scoped token for one sandbox (what a control plane hands a caller). */
function mintCommand(args: string[]): number {
  const f = parseFlags(args, { 'scoped-token-key-file': '', namespace: 'default', sandbox: '', ttl: 3600 });
  if (!f['scoped-token-key-file'] || !f.sandbox) throw new AgentboxError('invalid_argument', 'router token needs --scoped-token-key-file and --sandbox (and --namespace, --ttl seconds)');
  const exp = Math.floor(Date.now() / 1000) + f.ttl;
  process.stdout.write(`${mintScopedToken(readFileSync(f['scoped-token-key-file']), f.namespace, f.sandbox, exp)}\n`);
  return 0;
}

export async function routerCommand(args: string[]): Promise<number> {
  if (args[0] === 'token') return mintCommand(args.slice(1));
  const f = parseFlags(args, {
    port: 8080, host: '0.0.0.0', kubeconfig: '', namespace: '', 'cache-enabled': true,
    'authz-mode': 'scoped-token', 'auth-token-file': '', 'scoped-token-key-file': '',
    'cluster-domain': 'cluster.local', 'proxy-timeout': 180,
  });
  const auth = routerAuth(f['authz-mode'], f['auth-token-file'], f['scoped-token-key-file']);
  // Every upstream is checked against the Sandboxes the cache holds; without it none could be.
  if (!f['cache-enabled']) throw new AgentboxError('invalid_argument', '--cache-enabled=false is not supported: the router validates every upstream against its Sandbox cache');
  const client = await KubeClient.fromFile(f.kubeconfig || undefined, 'agentbox-router');
  const router = await startRouter({
    port: f.port, host: f.host, client, namespaces: namespaceList(f.namespace), auth,
    clusterDomain: f['cluster-domain'], proxyTimeoutMs: f['proxy-timeout'] * 1000, log: (msg) => log(msg),
  });
  log('router listening', { port: router.port, authz: auth.mode, namespaces: namespaceList(f.namespace) });
  await untilSignal();
  await router.close();
  client.close();
  return 0;
}
