// README "Kubernetes" / deploy/README.md: the kustomize base and the Helm chart install the
// operator, router and server (`agentbox up --kubernetes`). Both are rendered by the real tools (`kubectl kustomize`, `helm template`
// from scripts/build-helm.sh) and sent to the local kube-apiserver: namespaced objects are
// created for real in a namespace of this test; cluster-scoped ones (CRDs, ClusterRoles and
// their bindings, which other test files running at the same time rely on) go through the API
// server's full validation with `--dry-run=server` (create, or replace when they exist). The objects must also fit together: every
// Service selects a Deployment's pods and targets a port they declare, every pod runs as a
// ServiceAccount that is installed, every binding names a role and accounts that are installed.
// test-file-timeout: 20 min
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { KubeClient } from '../../src/k8s/client.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, KUBECONFIG } from '../k8s/harness.ts';
import { HELM, helmMissing, kubectl, parseManifests, run, toYaml } from '../k8s/manifests.ts';

const skip = ensureEnv();

interface Obj {
  apiVersion: string; kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}
const CLUSTER_SCOPED = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Namespace']);
const key = (o: Obj) => `${o.kind}/${o.metadata.name}`;

const parse = (text: string) => parseManifests<Obj>(text);

/** Pod template of a Deployment. */
const pod = (d: Obj) => (d.spec as { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName?: string; containers: { image: string; ports?: { name?: string; containerPort: number }[] }[] } } }).template;

/** The objects fit together: selectors, ports, service accounts, bindings. */
function assertCoherent(objs: Obj[]): void {
  const names = new Set(objs.map(key));
  const deployments = objs.filter((o) => o.kind === 'Deployment');
  assert.ok(deployments.length >= 2, 'the operator and the router are deployed');
  for (const d of deployments) {
    const sa = pod(d).spec.serviceAccountName;
    assert.ok(sa && names.has(`ServiceAccount/${sa}`), `${key(d)} runs as ServiceAccount ${sa}, which is installed`);
    assert.doesNotMatch(pod(d).spec.containers[0]!.image, /:$/, `${key(d)} names an image tag`);
  }
  for (const s of objs.filter((o) => o.kind === 'Service')) {
    const spec = s.spec as { selector: Record<string, string>; ports: { targetPort: string | number }[] };
    const target = deployments.find((d) => Object.entries(spec.selector).every(([k, v]) => pod(d).metadata.labels[k] === v));
    assert.ok(target, `${key(s)} selects the pods of a Deployment`);
    const ports = pod(target).spec.containers.flatMap((c) => c.ports ?? []);
    for (const p of spec.ports) assert.ok(ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `${key(s)} targets port ${p.targetPort}, which ${key(target)} declares`);
  }
  for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    assert.ok(names.has(`${b.roleRef!.kind}/${b.roleRef!.name}`), `${key(b)} binds ${b.roleRef!.kind} ${b.roleRef!.name}, which is installed`);
    for (const s of b.subjects ?? []) assert.ok(names.has(`ServiceAccount/${s.name}`), `${key(b)} binds ServiceAccount ${s.name}, which is installed`);
  }
  assert.deepEqual(objs.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name).sort(), [
    'batchsandboxes.sandbox.opensandbox.io', 'guardrailparameters.agentbox.dev', 'pools.sandbox.opensandbox.io',
    'sandboxclaims.extensions.agents.x-k8s.io', 'sandboxconfigs.agentbox.dev', 'sandboxes.agents.x-k8s.io',
    'sandboxsnapshots.agentbox.dev', 'sandboxtemplates.extensions.agents.x-k8s.io', 'sandboxwarmpools.extensions.agents.x-k8s.io',
  ], "the four Agent Sandbox CRDs, OpenSandbox's Pool and BatchSandbox, the guardrails' parameters, SandboxConfig and SandboxSnapshot");
}

/** Sends the manifests to the API server: namespaced objects for real into `ns`, the rest dry-run. */
function apply(objs: Obj[], ns: string): void {
  const moved = objs.filter((o) => o.kind !== 'Namespace').map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
  for (const o of moved) for (const s of o.subjects ?? []) if (s.namespace) s.namespace = ns;
  const cluster = moved.filter((o) => CLUSTER_SCOPED.has(o.kind));
  const namespaced = moved.filter((o) => !CLUSTER_SCOPED.has(o.kind));
  // Each as the manifest states it, not merged with what other files have set on the same CRDs.
  for (const o of cluster) {
    const exists = spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, 'get', key(o)], { encoding: 'utf8', timeout: 60_000 }).status === 0;
    kubectl([exists ? 'replace' : 'create', '--dry-run=server', '-f', '-'], JSON.stringify(o));
  }
  kubectl(['apply', '-f', '-'], toYaml(namespaced));
  const stored = kubectl(['get', '-f', '-', '-o', 'name'], toYaml(namespaced)).trim().split('\n');
  assert.equal(stored.length, namespaced.length, `every namespaced object is stored: ${stored.join(', ')}`);
}

describe('deploy manifests on the local kube-apiserver', { skip: skip ?? false }, () => {
  let client: KubeClient;
  const namespaces: string[] = [];
  before(async () => { client = await adminClient(); });
  after(async () => {
    for (const ns of namespaces) await deleteNamespace(client, ns);
    client.close();
  });
  const freshNamespace = async () => { const ns = await createNamespace(client, 'deploy'); namespaces.push(ns); return ns; };

  test('kustomize: deploy/kustomize/base renders, fits together and is accepted', { timeout: 300_000 }, async () => {
    const objs = parse(kubectl(['kustomize', 'deploy/kustomize/base']));
    assertCoherent(objs);
    // Everything lives in the install namespace, except the router's RoleBinding in each sandbox
    // namespace (`default` in the base: deploy/kustomize/base/sandbox-namespace.yaml).
    const outside = objs.filter((o) => !CLUSTER_SCOPED.has(o.kind) && o.metadata.namespace !== 'agent-sandbox-system');
    assert.deepEqual(outside.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`), outside.filter((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'default').map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`), 'only sandbox-namespace RoleBindings live outside the install namespace');
    apply(objs, await freshNamespace());
  });

  test('Helm: deploy/helm/agentbox-operator lints, renders the same objects as kustomize and is accepted', { skip: helmMissing, timeout: 300_000 }, async () => {
    run(HELM, ['lint', 'deploy/helm/agentbox-operator']);
    const ns = await freshNamespace();
    const objs = parse(run(HELM, ['template', 'agentbox', 'deploy/helm/agentbox-operator', '--namespace', ns, '--include-crds']));
    assertCoherent(objs);
    const kustomized = parse(kubectl(['kustomize', 'deploy/kustomize/base'])).filter((o) => o.kind !== 'Namespace').map(key).sort();
    // The chart generates the router's signing key and the server's admin key; with kustomize
    // they are documented install steps (deploy/README.md), never keys committed to the repository.
    const charted = objs.map(key).filter((k) => k !== 'Secret/sandbox-router-auth' && k !== 'Secret/agentbox-server-admin').sort();
    const admin = objs.find((o) => key(o) === 'Secret/agentbox-server-admin') as Obj & { data: { key: string } };
    assert.match(Buffer.from(admin.data.key, 'base64').toString(), /^e2b_[0-9a-f]{40}$/, 'the generated admin key has the shape E2B SDKs accept');
    assert.deepEqual(charted, kustomized, 'the chart installs what the kustomize base installs');
    apply(objs, ns);
  });

  test('both install the server: `up --kubernetes` with the router\'s key, bound in the sandbox namespace only, admitted by the router\'s NetworkPolicy', { skip: helmMissing, timeout: 120_000 }, () => {
    for (const objs of [parse(kubectl(['kustomize', 'deploy/kustomize/base'])), parse(run(HELM, ['template', 'agentbox', 'deploy/helm/agentbox-operator', '--namespace', 'agent-sandbox-system']))]) {
      const server = objs.find((o) => key(o) === 'Deployment/agentbox-server')!;
      const c = (server.spec as { template: { spec: { containers: { args: string[]; env: { name: string }[] }[] } } }).template.spec.containers[0]!;
      assert.deepEqual(c.args.slice(0, 2), ['up', '--kubernetes']);
      assert.ok(c.args.includes('--router-scoped-token-key-file=/etc/router-auth/key'), c.args.join(' '));
      assert.ok(c.args.includes('--router-url=http://sandbox-router-svc.agent-sandbox-system:8080'), c.args.join(' '));
      assert.ok(c.env.some((e) => e.name === 'AGENTBOX_ADMIN_KEY'));
      const bindings = objs.filter((o) => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && o.roleRef?.name === 'agentbox-server');
      assert.deepEqual(bindings.map((b) => `${b.kind}/${b.metadata.namespace}`), ['RoleBinding/default']);
      const role = objs.find((o) => key(o) === 'ClusterRole/agentbox-server') as Obj & { rules: { resources: string[] }[] };
      assert.ok(!role.rules.some((r) => r.resources.includes('pods')), 'the server never touches pods: it reaches them through the router');
      const np = objs.find((o) => key(o) === 'NetworkPolicy/sandbox-router')!;
      assert.match(JSON.stringify(np.spec), /"app":"agentbox-server"/);
    }
  });
});
