// deploy/keda (docs/kubernetes-scaling.md): the overlay renders with `kubectl kustomize` and
// fits together, and its ScaledObjects ask for what the operator serves: the external scaler's
// address is the Service that reaches the port the operator's flag opens, the trigger metadata is
// accepted by the scaler's own parser, and the Prometheus query names a gauge the operator
// exports. The example pool is sent to the real kube-apiserver (the CRDs validate it). KEDA's own
// CRDs are not installed there (KEDA's images cannot be pulled on this machine), so the
// ScaledObjects are checked against KEDA's documented fields here rather than by its API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../src/k8s/client.ts';
import { OperatorMetrics } from '../../src/k8s/metrics.ts';
import type { PoolDemandView } from '../../src/k8s/keda/demand.ts';
import { targetOf } from '../../src/k8s/keda/external-scaler.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG } from './harness.ts';

const root = new URL('../..', import.meta.url).pathname;
const skip = ensureEnv();

interface Obj {
  apiVersion: string; kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
}
interface ScaledObject extends Obj {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}
interface Deployment extends Obj {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { args: string[]; ports: { name: string; containerPort: number }[] }[] } } };
}

function kubectl(args: string[], input?: string): string {
  const r = spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { encoding: 'utf8', input, timeout: 120_000, cwd: root });
  assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}
const parse = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => !!o);
const file = (name: string) => parse(readFileSync(join(root, 'deploy/keda', name), 'utf8'));

describe('deploy/keda', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns = '';
  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'keda-manifests');
  });
  after(async () => {
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const pool = file('warmpool.yaml').find((o) => o.kind === 'SandboxWarmPool')!;

  it('turns on the external scaler in the operator and reaches it through a Service', () => {
    const objs = parse(kubectl(['kustomize', 'deploy/keda']));
    const operator = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'agent-sandbox-controller') as Deployment;
    const container = operator.spec.template.spec.containers[0]!;
    const flag = container.args.find((a) => a.startsWith('--keda-external-scaler-bind-address='));
    assert.equal(flag, '--keda-external-scaler-bind-address=:9090');
    assert.ok(container.args.includes('--extensions'), 'the scaler needs --extensions');
    const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'agent-sandbox-keda-scaler') as Obj & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] } };
    assert.ok(Object.entries(svc.spec.selector).every(([k, v]) => operator.spec.template.metadata.labels[k] === v), 'the Service selects the operator pods');
    const target = container.ports.find((p) => p.name === svc.spec.ports[0]!.targetPort);
    assert.equal(target?.containerPort, 9090, 'the Service targets the port the flag opens');

    const [external] = file('scaledobject-external.yaml') as ScaledObject[];
    const trigger = external!.spec.triggers[0]!;
    assert.equal(trigger.type, 'external-push');
    assert.equal(trigger.metadata.scalerAddress, `${svc.metadata.name}.${svc.metadata.namespace}.svc:${svc.spec.ports[0]!.port}`);
    // The scaler's own parser accepts the metadata KEDA will pass it, and finds the example pool.
    const t = targetOf({ name: external!.metadata.name, namespace: external!.metadata.namespace!, scalerMetadata: trigger.metadata } as Parameters<typeof targetOf>[0]);
    assert.deepEqual(t, { namespace: pool.metadata.namespace, pool: pool.metadata.name, windowMs: 120_000 });
  });

  it('scales the example pool from zero, by the external scaler or by a gauge the operator exports', () => {
    const metrics = new OperatorMetrics();
    metrics.collectDemand({ all: () => [] } as unknown as PoolDemandView);
    for (const name of ['scaledobject-external.yaml', 'scaledobject-prometheus.yaml']) {
      const [so] = file(name) as ScaledObject[];
      assert.equal(so!.apiVersion, 'keda.sh/v1alpha1');
      assert.deepEqual(so!.spec.scaleTargetRef, { apiVersion: pool.apiVersion, kind: 'SandboxWarmPool', name: pool.metadata.name }, name);
      assert.equal(so!.metadata.namespace, pool.metadata.namespace, `${name} sits beside its pool`);
      assert.equal(so!.spec.minReplicaCount, 0, `${name} scales to zero`);
    }
    const [prom] = file('scaledobject-prometheus.yaml') as ScaledObject[];
    const query = prom!.spec.triggers[0]!.metadata.query!;
    const gauge = /^max\((\w+)\{namespace="([^"]+)",warmpool="([^"]+)"\}\)$/.exec(query);
    assert.ok(gauge, query);
    assert.ok(metrics.registry.getSingleMetric(gauge[1]!), `the operator exports ${gauge[1]}`);
    assert.deepEqual([gauge[2], gauge[3]], [pool.metadata.namespace, pool.metadata.name]);
    assert.equal(prom!.spec.triggers[0]!.metadata.activationThreshold, '0', 'any demand activates the pool');
  });

  it('the example template and pool are accepted by the API server', () => {
    const objs = file('warmpool.yaml').map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
    kubectl(['apply', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n---\n'));
    const stored = kubectl(['-n', ns, 'get', 'sandboxwarmpool', pool.metadata.name, '-o', 'jsonpath={.spec.replicas}']);
    assert.equal(stored, '0');
  });
});
