// test-file-exclusive: it stores a default SandboxConfig cluster-wide, a second default to any operator rolling SandboxConfigs out beside it
// The admission guardrails of deploy/kustomize/guardrails (docs/kubernetes-guardrails.md) on the
// real kube-apiserver: rendered by `kubectl kustomize`, installed, and exercised with server-side
// dry-run creates (which run admission exactly as a real create does and store nothing). Each
// policy admits a good Sandbox, SandboxTemplate, OpenSandbox Pool and BatchSandbox and refuses a
// bad one with its message; the allowed RuntimeClasses change by editing the GuardrailParameters
// object alone; a namespace without the label is not affected; the operator works under them.
// The cluster-scoped SandboxConfig is guarded cluster-wide: its assets carry a sha256 (its CRD's
// schema) and there is at most one default per class (agentbox-sandbox-config-default).
// The Helm chart renders the same objects.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EVENTS, KubeApiError, NAMESPACES, type KubeClient, type ResourceType } from '../../src/k8s/client.ts';
import { GUARDRAIL_PARAMETERS } from '../../src/api/k8s/guardrail-schemas.ts';
import { BATCH_SANDBOXES, POOLS, SANDBOXES, TEMPLATES } from '../../src/k8s/resources.ts';
import type { KubeObject } from '../../src/api/k8s/types.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG, waitFor } from './harness.ts';
import { HELM, helmMissing, kubectl, parseManifests, run, toYaml } from './manifests.ts';
import { extensionsFixture } from './extensions-fixture.ts';
import { goodSandboxConfig, SANDBOX_CONFIGS } from './sandbox-config-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping k8s guardrail tests: ${skip}`);

interface Manifest { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> }
const parse = (text: string) => parseManifests<Manifest>(text);
const byKey = (objs: Manifest[]) => new Map(objs.map((o) => [`${o.kind}/${o.metadata.name}`, o]));

const PARAMS: ResourceType = { group: GUARDRAIL_PARAMETERS.group, version: GUARDRAIL_PARAMETERS.version, plural: GUARDRAIL_PARAMETERS.plural, kind: GUARDRAIL_PARAMETERS.kind };

type PodSpec = Record<string, unknown> & { containers: Record<string, unknown>[] };
/** A pod spec every policy admits. */
const goodPod = (): PodSpec => ({
  runtimeClassName: 'gvisor',
  containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '1', memory: '512Mi' } }, securityContext: { capabilities: { drop: ['ALL'] } } }],
  initContainers: [{ name: 'init', image: 'busybox', resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
  volumes: [{ name: 'scratch', emptyDir: {} }],
});

/** The four kinds the policies guard, each wrapping a pod spec where that kind keeps it. */
const KINDS: { kind: string; rt: ResourceType; wrap: (name: string, pod: PodSpec) => KubeObject }[] = [
  { kind: 'Sandbox', rt: SANDBOXES, wrap: (name, pod) => ({ metadata: { name }, spec: { podTemplate: { spec: pod } } }) as KubeObject },
  { kind: 'SandboxTemplate', rt: TEMPLATES, wrap: (name, pod) => ({ metadata: { name }, spec: { podTemplate: { spec: pod } } }) as KubeObject },
  { kind: 'Pool', rt: POOLS, wrap: (name, pod) => ({ metadata: { name }, spec: { template: { spec: pod }, capacitySpec: { bufferMax: 1, bufferMin: 0, poolMax: 1, poolMin: 0 } } }) as KubeObject },
  { kind: 'BatchSandbox', rt: BATCH_SANDBOXES, wrap: (name, pod) => ({ metadata: { name }, spec: { template: { spec: pod } } }) as KubeObject },
];

/** What one rule refuses: a change to a good pod spec and the message it must give. */
const BAD: { rule: string; policy: string; change: (p: PodSpec) => void; message: RegExp }[] = [
  { rule: 'runtime class unset', policy: 'agentbox-runtime-class', change: (p) => { delete p.runtimeClassName; }, message: /runtimeClassName is not set: set the pod spec runtimeClassName to one of \[gvisor\] \(GuardrailParameters guard-[0-9a-f]+\/agentbox, spec\.allowedRuntimeClasses\)/ },
  { rule: 'runtime class not allowed', policy: 'agentbox-runtime-class', change: (p) => { p.runtimeClassName = 'runc'; }, message: /runtimeClassName runc is not allowed: set the pod spec runtimeClassName to one of \[gvisor\]/ },
  { rule: 'no memory limit', policy: 'agentbox-resource-limits', change: (p) => { p.containers[0]!.resources = { limits: { cpu: '1' } }; }, message: /every container must set resources\.limits\.cpu and resources\.limits\.memory; missing in: main$/ },
  { rule: 'init container without limits', policy: 'agentbox-resource-limits', change: (p) => { delete (p.initContainers as Record<string, unknown>[])[0]!.resources; }, message: /missing in: init$/ },
  { rule: 'privileged', policy: 'agentbox-pod-security', change: (p) => { p.containers[0]!.securityContext = { privileged: true }; }, message: /privileged containers are not allowed: main$/ },
  { rule: 'added capability', policy: 'agentbox-pod-security', change: (p) => { p.containers[0]!.securityContext = { capabilities: { add: ['NET_ADMIN', 'SYS_PTRACE'], drop: ['ALL'] } }; }, message: /added capabilities are not allowed \(drop is fine\): main adds NET_ADMIN, SYS_PTRACE$/ },
  { rule: 'host network and PID', policy: 'agentbox-pod-security', change: (p) => { p.hostNetwork = true; p.hostPID = true; }, message: /host namespaces are not allowed: hostNetwork, hostPID must be false$/ },
  { rule: 'host IPC', policy: 'agentbox-pod-security', change: (p) => { p.hostIPC = true; }, message: /host namespaces are not allowed: hostIPC must be false$/ },
  { rule: 'hostPath volume', policy: 'agentbox-pod-security', change: (p) => { (p.volumes as unknown[]).push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }); }, message: /hostPath volumes are not allowed: docker$/ },
];

const badPod = (change: (p: PodSpec) => void) => { const p = goodPod(); change(p); return p; };

describe('admission guardrails on the kube-apiserver', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let enforced = '';
  let unlabelled = '';
  let installed: Manifest[] = [];

  /** A dry-run create: null when admitted, the API error when refused. */
  async function tryCreate(rt: ResourceType, ns: string | undefined, obj: KubeObject): Promise<KubeApiError | null> {
    const body = { apiVersion: `${rt.group}/${rt.version}`, kind: rt.kind, ...obj };
    try {
      await client.request('POST', `${client.path(rt, ns)}?dryRun=All`, body);
      return null;
    } catch (e) {
      if (e instanceof KubeApiError) return e;
      throw e;
    }
  }

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    enforced = await createNamespace(client, 'guard');
    unlabelled = await createNamespace(client, 'guard-open');
    await client.patch(NAMESPACES, undefined, enforced, { metadata: { labels: { 'agentbox.dev/guardrails': 'enforced' } } });
    // As shipped, but with the parameters in this test's namespace: agent-sandbox-system is not
    // this test's to create in a control plane that other test files share.
    installed = parse(kubectl(['kustomize', 'deploy/kustomize/guardrails'])).map((o) => {
      if (o.kind === 'GuardrailParameters') return { ...o, metadata: { ...o.metadata, namespace: enforced } };
      const paramRef = (o.spec as { paramRef?: Record<string, unknown> } | undefined)?.paramRef;
      // (SandboxConfig's binding has none to move: its parameters are cluster-scoped.)
      return paramRef?.namespace ? { ...o, spec: { ...o.spec, paramRef: { ...paramRef, namespace: enforced } } } : o;
    });
    kubectl(['apply', '-f', '-'], toYaml(installed));
    // The API server loads policies, bindings and parameters asynchronously: wait until each
    // rule refuses with its own message (not, say, "no params found" while the parameters load).
    for (const bad of BAD) {
      await waitFor(`${bad.policy} in force (${bad.rule})`, async () => {
        const err = await tryCreate(SANDBOXES, enforced, KINDS[0]!.wrap('probe', badPod(bad.change)));
        return err && bad.message.test(err.message);
      }, 30_000, 200);
    }
  });
  after(async () => {
    const cluster = installed.filter((o) => o.kind !== 'GuardrailParameters');
    if (cluster.length) spawnSync('kubectl', ['--kubeconfig', KUBECONFIG, 'delete', '--ignore-not-found', '-f', '-'], { input: toYaml(cluster), timeout: 60_000 });
    for (const ns of [enforced, unlabelled]) if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  it('ships three policies, each bound to the namespaces labelled agentbox.dev/guardrails=enforced', () => {
    const objs = byKey(installed);
    for (const name of ['agentbox-runtime-class', 'agentbox-resource-limits', 'agentbox-pod-security']) {
      assert.ok(objs.has(`ValidatingAdmissionPolicy/${name}`), name);
      const binding = objs.get(`ValidatingAdmissionPolicyBinding/${name}`)!.spec as { policyName: string; validationActions: string[]; matchResources: unknown };
      assert.equal(binding.policyName, name);
      assert.deepEqual(binding.validationActions, ['Deny']);
      assert.deepEqual(binding.matchResources, { namespaceSelector: { matchLabels: { 'agentbox.dev/guardrails': 'enforced' } } });
    }
    assert.deepEqual(objs.get('GuardrailParameters/agentbox')!.spec, { allowedRuntimeClasses: ['gvisor'] });
  });

  for (const k of KINDS) {
    it(`admits a good ${k.kind}`, async () => {
      assert.equal((await tryCreate(k.rt, enforced, k.wrap('good', goodPod())))?.message ?? null, null);
    });
    it(`refuses a bad ${k.kind} with each rule's message (HTTP 422 Invalid)`, async () => {
      for (const bad of BAD) {
        const err = await tryCreate(k.rt, enforced, k.wrap('bad', badPod(bad.change)));
        assert.ok(err, `${bad.rule}: admitted`);
        assert.equal(err.status, 422, `${bad.rule}: ${err.message}`);
        assert.equal(err.reason, 'Invalid');
        assert.match(err.message, new RegExp(`ValidatingAdmissionPolicy '${bad.policy}' with binding '${bad.policy}' denied request`), bad.rule);
        assert.match(err.message, bad.message, bad.rule);
      }
    });
  }

  it('checks updates too, not only creates', async () => {
    const good = KINDS[1]!.wrap('updated', goodPod());
    await client.create(TEMPLATES, enforced, good);
    const stored = await client.get<KubeObject & { spec: { podTemplate: { spec: PodSpec } } }>(TEMPLATES, enforced, 'updated');
    stored.spec.podTemplate.spec.hostNetwork = true;
    await assert.rejects(client.update(TEMPLATES, stored), (e: KubeApiError) => e.status === 422 && /hostNetwork must be false/.test(e.message));
  });

  it('judges an object written before its namespace was labelled only when its pod template changes (a label edit passes)', async () => {
    const late = await createNamespace(client, 'guard-late');
    try {
      const hostNetwork = badPod((p) => { p.hostNetwork = true; });
      await client.create(TEMPLATES, late, KINDS[1]!.wrap('old', hostNetwork));
      await client.patch(NAMESPACES, undefined, late, { metadata: { labels: { 'agentbox.dev/guardrails': 'enforced' } } });
      await waitFor('policies in force in the newly labelled namespace', async () => !!(await tryCreate(TEMPLATES, late, KINDS[1]!.wrap('probe', badPod(BAD[0]!.change)))), 30_000, 200);
      await client.patch(TEMPLATES, late, 'old', { metadata: { labels: { team: 'a' } } });
      await assert.rejects(client.patch(TEMPLATES, late, 'old', { spec: { podTemplate: { spec: { ...hostNetwork, hostIPC: true } } } }),
        (e: KubeApiError) => e.status === 422 && /hostNetwork, hostIPC must be false/.test(e.message));
    } finally { await deleteNamespace(client, late); }
  });

  it("leaves out OpenSandbox's task-executor and execd-installer, which the operator drops", async () => {
    const upstream = goodPod();
    upstream.containers.push({ name: 'task-executor', image: 'task-executor', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } });
    (upstream.initContainers as unknown[]).push({ name: 'execd-installer', image: 'execd' });
    for (const k of KINDS.filter((x) => x.kind === 'Pool' || x.kind === 'BatchSandbox')) {
      assert.equal((await tryCreate(k.rt, enforced, k.wrap('upstream', upstream)))?.message ?? null, null, k.kind);
    }
    const err = await tryCreate(SANDBOXES, enforced, KINDS[0]!.wrap('upstream', upstream));
    assert.match(err?.message ?? 'admitted', /(missing in: task-executor, execd-installer|task-executor adds SYS_PTRACE)$/, 'a Sandbox runs every container it names');
  });

  it('leaves a BatchSandbox that takes its pods from a Pool to the Pool\'s checks', async () => {
    assert.equal(await tryCreate(BATCH_SANDBOXES, enforced, { metadata: { name: 'from-pool' }, spec: { poolRef: 'checked-pool' } } as KubeObject), null);
  });

  it('allows another RuntimeClass once the GuardrailParameters list it, without touching the policy', async () => {
    const runc = KINDS[0]!.wrap('runc', { ...goodPod(), runtimeClassName: 'runc' });
    await client.patch(PARAMS, enforced, 'agentbox', { spec: { allowedRuntimeClasses: ['gvisor', 'runc'] } });
    await waitFor('runc admitted', async () => (await tryCreate(SANDBOXES, enforced, runc)) === null, 30_000, 200);
    const unset = await tryCreate(SANDBOXES, enforced, KINDS[0]!.wrap('unset', badPod((p) => { delete p.runtimeClassName; })));
    assert.match(unset?.message ?? 'admitted', /one of \[gvisor, runc\]/);
    await client.patch(PARAMS, enforced, 'agentbox', { spec: { allowedRuntimeClasses: ['gvisor'] } });
    await waitFor('runc refused again', async () => (await tryCreate(SANDBOXES, enforced, runc))?.message.includes('runtimeClassName runc is not allowed'), 30_000, 200);
  });

  it('does not touch a namespace without the label', async () => {
    for (const k of KINDS) {
      for (const bad of BAD) {
        assert.equal((await tryCreate(k.rt, unlabelled, k.wrap('bad', badPod(bad.change))))?.message ?? null, null, `${k.kind}: ${bad.rule}`);
      }
    }
  });

  describe('SandboxConfig, cluster-scoped and so bound cluster-wide', () => {
    const suffix = `${process.pid}-${Date.now().toString(36)}`;
    const stored = `guard-default-${suffix}`;
    const defaultOf = (name: string, cls = 'gvisor') => goodSandboxConfig(name, { class: cls, default: true });
    const classClash = new RegExp(`ValidatingAdmissionPolicy 'agentbox-sandbox-config-default' with binding 'agentbox-sandbox-config-default' denied request: SandboxConfig ${stored} is already the default of class gvisor: set its spec\\.default to false first \\(at most one default per class\\)`);

    before(async () => {
      await client.create(SANDBOX_CONFIGS, undefined, defaultOf(stored));
      // The policy's parameters (every stored SandboxConfig) reach it through the API server's cache.
      await waitFor('the stored default seen by agentbox-sandbox-config-default', async () =>
        (await tryCreate(SANDBOX_CONFIGS, undefined, defaultOf(`probe-${suffix}`)))?.message.match(classClash) ?? null, 30_000, 200);
    });
    after(async () => { await client.delete(SANDBOX_CONFIGS, undefined, stored); });

    it('binds agentbox-sandbox-config-default to every SandboxConfig, with all of them as parameters', () => {
      const binding = byKey(installed).get('ValidatingAdmissionPolicyBinding/agentbox-sandbox-config-default')!.spec as Record<string, unknown>;
      assert.equal(binding.matchResources, undefined, 'no namespace selector: it would not select a cluster-scoped object anyway');
      assert.deepEqual(binding.paramRef, { selector: {}, parameterNotFoundAction: 'Allow' });
      assert.deepEqual(binding.validationActions, ['Deny']);
    });

    it('admits a good SandboxConfig', async () => {
      assert.equal((await tryCreate(SANDBOX_CONFIGS, undefined, goodSandboxConfig(`good-${suffix}`)))?.message ?? null, null);
    });

    it('refuses an asset with a missing or short sha256, with its message (HTTP 422 Invalid)', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ url: 'https://example.com/runsc' }, /spec\.runtime\.assets\.arm64\.sha256: Required value/],
        [{ url: 'https://example.com/runsc', sha256: 'abc123' }, /spec\.runtime\.assets\.arm64\.sha256: Invalid value: "abc123": spec\.runtime\.assets\.arm64\.sha256 in body should match '\^\[a-f0-9\]\{64\}\$'/],
      ];
      for (const [arm64, message] of cases) {
        const bad = goodSandboxConfig(`bad-${suffix}`);
        bad.spec.runtime.assets.arm64 = arm64;
        const err = await tryCreate(SANDBOX_CONFIGS, undefined, bad);
        assert.ok(err, `admitted: ${JSON.stringify(arm64)}`);
        assert.equal(err.status, 422, err.message);
        assert.equal(err.reason, 'Invalid');
        assert.match(err.message, message);
      }
    });

    it('refuses a second default of a class, naming the one there is', async () => {
      const err = await tryCreate(SANDBOX_CONFIGS, undefined, defaultOf(`second-${suffix}`));
      assert.equal(err?.status, 422, err?.message ?? 'admitted');
      assert.match(err.message, classClash);
    });

    it('admits a default of the other class, a non-default of the same class, and a write of the default itself', async () => {
      assert.equal((await tryCreate(SANDBOX_CONFIGS, undefined, defaultOf(`microvm-${suffix}`, 'microvm')))?.message ?? null, null);
      assert.equal((await tryCreate(SANDBOX_CONFIGS, undefined, goodSandboxConfig(`spare-${suffix}`, { default: false })))?.message ?? null, null);
      await client.patch(SANDBOX_CONFIGS, undefined, stored, { spec: { runtime: { version: 'release-20250601.0' } } });
    });

    it('refuses making a second config the default by an update, and admits it once the first stops being one', async () => {
      const spare = `spare-${suffix}`;
      await client.create(SANDBOX_CONFIGS, undefined, goodSandboxConfig(spare, { default: false }));
      try {
        await assert.rejects(client.patch(SANDBOX_CONFIGS, undefined, spare, { spec: { default: true } }),
          (e: KubeApiError) => e.status === 422 && classClash.test(e.message));
        await client.patch(SANDBOX_CONFIGS, undefined, stored, { spec: { default: false } });
        await waitFor('the former default no longer blocks', async () =>
          client.patch(SANDBOX_CONFIGS, undefined, spare, { spec: { default: true } }).then(() => true, (e: unknown) => {
            if (e instanceof KubeApiError && e.status === 422) return null;
            throw e;
          }), 30_000, 200);
      } finally {
        await client.delete(SANDBOX_CONFIGS, undefined, spare);
      }
    });
  });

  describe('the operator in a labelled namespace', () => {
    const f = extensionsFixture('guard-op');
    before(async () => {
      // Written before the label, so admitted: a template the guardrails would refuse now.
      await f.template('legacy', { podTemplate: { spec: { ...goodPod(), runtimeClassName: 'runc' } } });
      await f.client.patch(NAMESPACES, undefined, f.ns, { metadata: { labels: { 'agentbox.dev/guardrails': 'enforced' } } });
      await waitFor('policies in force in the operator\'s namespace', async () => !!(await tryCreate(SANDBOXES, f.ns, KINDS[0]!.wrap('probe', badPod(BAD[0]!.change)))), 30_000, 200);
    });

    it('fills a warm pool and binds a claim: every Sandbox the operator writes passes the policies', async () => {
      await f.readyPool('checked', 2, { podTemplate: { spec: goodPod() } });
      await f.claim('checked-claim', 'checked');
      await f.claimReason('checked-claim', 'DependenciesReady');
    });

    it("refuses the members of a warm pool whose template breaks the policies, and says why on the pool (FailedCreate)", async () => {
      await f.pool('legacy', 'legacy', 1);
      const event = await waitFor('FailedCreate event on the pool', async () => (await f.client.list<KubeObject & { type?: string; reason?: string; note?: string; regarding?: { kind?: string; name?: string } }>(EVENTS, f.ns)).items
        .find((e) => e.reason === 'FailedCreate' && e.regarding?.kind === 'SandboxWarmPool' && e.regarding.name === 'legacy'), 30_000, 200);
      assert.equal(event.type, 'Warning');
      assert.match(event.note ?? '', /^Error creating: .*ValidatingAdmissionPolicy 'agentbox-runtime-class' with binding 'agentbox-runtime-class' denied request: runtimeClassName runc is not allowed: set the pod spec runtimeClassName to one of \[gvisor\]/);
      assert.deepEqual(await f.members('legacy'), [], 'no member was created');
    });
  });

  it('Helm renders the same policies, parameters and bindings (guardrails.enabled)', { skip: helmMissing }, () => {
    const kustomized = byKey(parse(kubectl(['kustomize', 'deploy/kustomize/guardrails'])));
    const helm = byKey(parse(run(HELM, ['template', 'agentbox', 'deploy/helm/agentbox-operator', '--namespace', 'agent-sandbox-system', '--set', 'guardrails.enabled=true', '--show-only', 'templates/guardrails.yaml'])));
    assert.deepEqual([...helm.keys()].sort(), [...kustomized.keys()].sort());
    for (const [key, o] of kustomized) assert.deepEqual(helm.get(key), o, key);
    const off = run(HELM, ['template', 'agentbox', 'deploy/helm/agentbox-operator', '--namespace', 'agent-sandbox-system']);
    assert.doesNotMatch(off, /ValidatingAdmissionPolicy/, 'off unless guardrails.enabled');
  });
});
