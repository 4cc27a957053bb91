// Fixture of the extension-controller tests (templates, warm pools, claims): one namespace and one
// operator per file, and builders with which each test makes every object it reads, so any one
// test runs alone (`--test-name-pattern`) as well as in its file.
import { after, before } from 'node:test';
import { CLAIMS, SANDBOXES, TEMPLATES, WARM_POOLS } from '../../src/k8s/resources.ts';
import { type KubeClient, PODS } from '../../src/k8s/client.ts';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../src/k8s/operator.ts';
import { nameHash } from '../../src/k8s/hash.ts';
import type { Sandbox, SandboxClaim, SandboxTemplate, SandboxWarmPool } from '../../src/api/k8s/types.ts';
import { adminClient, autoKubelet, basicPodSpec, createNamespace, deleteNamespace, installCrds, markPodReady, waitFor } from './harness.ts';

export interface ExtensionsFixture {
  readonly client: KubeClient;
  readonly ns: string;
  readonly op: RunningOperator;
  /** Starts the operator (again, after `op.stop()`), with the file's options. */
  startOperator(readinessGraceMs?: number): Promise<void>;
  template(name: string, spec?: Record<string, unknown>): Promise<SandboxTemplate>;
  pool(name: string, templateName: string, replicas: number, strategy?: string): Promise<SandboxWarmPool>;
  claim(name: string, poolName: string, spec?: Record<string, unknown>, labels?: Record<string, string>): Promise<SandboxClaim>;
  /** Live (not deleting) members of a pool. */
  members(poolName: string): Promise<Sandbox[]>;
  claimReason(name: string, reason: string, timeoutMs?: number): Promise<SandboxClaim>;
  readyMembers(poolName: string, n: number): Promise<SandboxWarmPool>;
  /** A template and a pool of `replicas` members, all Ready (the stand-in kubelet runs meanwhile). */
  readyPool(poolName: string, replicas: number, templateSpec?: Record<string, unknown>): Promise<SandboxWarmPool>;
  /** Reconcile passes the operator has finished for one controller (its duration histogram's count). */
  reconciles(controller: 'sandbox' | 'template' | 'warmpool' | 'claim'): Promise<number>;
  /** A claim bound to a cold-started, Ready Sandbox of its own name, from a pool of 0 whose template allows env and VCTs. */
  coldClaim(name: string, spec?: Record<string, unknown>): Promise<SandboxClaim>;
}

export interface FixtureOptions {
  readinessGraceMs?: number;
  /** More operator options (pool rates, claim wait ceiling). */
  operator?: Partial<OperatorOptions>;
  /** Wraps the client the operator uses (to observe its API calls). */
  wrapClient?: (client: KubeClient) => KubeClient;
}

/** Registers before/after hooks that make a namespace and start the operator for it. */
export function extensionsFixture(prefix: string, opts: FixtureOptions = {}): ExtensionsFixture {
  let client!: KubeClient;
  let ns = '';
  let op: RunningOperator | undefined;
  const defaultGraceMs = opts.readinessGraceMs ?? 10 * 60_000;

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, prefix);
    await f.startOperator();
  });
  after(async () => {
    await op?.stop();
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const f: ExtensionsFixture = {
    get client() { return client; },
    get ns() { return ns; },
    get op() { return op!; },
    async startOperator(readinessGraceMs = defaultGraceMs) {
      op = await startOperator({ ...opts.operator, client: opts.wrapClient ? opts.wrapClient(client) : client, namespace: ns, extensions: true, readinessGraceMs });
    },
    template: (name, spec = {}) =>
      client.create<SandboxTemplate>(TEMPLATES, ns, { metadata: { name }, spec: { podTemplate: { spec: basicPodSpec() }, ...spec } } as SandboxTemplate),
    pool: (name, templateName, replicas, strategy) =>
      client.create<SandboxWarmPool>(WARM_POOLS, ns, {
        metadata: { name },
        spec: { replicas, sandboxTemplateRef: { name: templateName }, ...(strategy ? { updateStrategy: { type: strategy } } : {}) },
      } as SandboxWarmPool),
    claim: (name, poolName, spec = {}, labels) =>
      client.create<SandboxClaim>(CLAIMS, ns, { metadata: { name, ...(labels ? { labels } : {}) }, spec: { warmPoolRef: { name: poolName }, ...spec } } as SandboxClaim),
    members: async (poolName) =>
      (await client.list<Sandbox>(SANDBOXES, ns, { labelSelector: `agents.x-k8s.io/warm-pool-sandbox=${nameHash(poolName)}` })).items
        .filter((s) => !s.metadata.deletionTimestamp),
    claimReason: (name, reason, timeoutMs = 15_000) => waitFor(`claim ${name} Ready=${reason}`, async () => {
      const c = await client.getOrNull<SandboxClaim>(CLAIMS, ns, name);
      return c?.status?.conditions?.find((x) => x.type === 'Ready')?.reason === reason ? c : null;
    }, timeoutMs),
    readyMembers: (poolName, n) => waitFor(`${n} ready members of ${poolName}`, async () => {
      const p = await client.get<SandboxWarmPool>(WARM_POOLS, ns, poolName);
      return p.status?.readyReplicas === n && p.status?.replicas === n ? p : null;
    }, 30_000),
    async readyPool(poolName, replicas, templateSpec = {}) {
      const stopKubelet = autoKubelet(client, ns, (p) => p.metadata.name!.startsWith(`${poolName}-`));
      try {
        await f.template(`${poolName}-tpl`, templateSpec);
        await f.pool(poolName, `${poolName}-tpl`, replicas);
        return await f.readyMembers(poolName, replicas);
      } finally { await stopKubelet(); }
    },
    async reconciles(controller) {
      const text = await op!.metrics.registry.metrics();
      const m = new RegExp(`^agentbox_operator_reconcile_duration_seconds_count\\{controller="${controller}"\\} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    },
    async coldClaim(name, spec = {}) {
      await f.template(`${name}-tpl`, { envVarsInjectionPolicy: 'Allowed', volumeClaimTemplatesPolicy: 'Allowed' });
      await f.pool(`${name}-pool`, `${name}-tpl`, 0);
      await f.claim(name, `${name}-pool`, spec);
      await waitFor(`pod of ${name}`, () => client.getOrNull(PODS, ns, name));
      await markPodReady(client, ns, name);
      return f.claimReason(name, 'DependenciesReady');
    },
  };
  return f;
}
