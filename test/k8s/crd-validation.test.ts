// The CRDs embed Kubernetes' own schemas for the pod template, volume claim spec and network
// policy rules (src/api/k8s/core-schemas.gen.ts), tightened where Kubernetes validates in code:
// the API server refuses a bad Sandbox when it is written, with a message naming the field.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApiError, type KubeClient } from '../../src/k8s/client.ts';
import { CLAIMS, SANDBOXES, TEMPLATES } from '../../src/k8s/resources.ts';
import type { KubeObject, Sandbox } from '../../src/api/k8s/types.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds } from './harness.ts';
import { goodSandboxConfig, SANDBOX_CONFIGS, type SandboxConfig } from './sandbox-config-fixture.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping CRD validation tests: ${skip}`);

describe('CRD validation by the API server', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let n = 0;

  before(async () => {
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'crdval');
  });
  // The CRDs are cluster-wide and the API server is shared with other checkouts' test runs, which
  // install their own; each test makes sure this tree's schemas are the ones it checks.
  beforeEach(() => installCrds(client));
  after(async () => {
    if (ns) await deleteNamespace(client, ns);
    client?.close();
  });

  const sandbox = (podSpec: Record<string, unknown>) =>
    client.create<Sandbox>(SANDBOXES, ns, { metadata: { name: `sb-${n++}` }, spec: { podTemplate: { spec: podSpec } } } as unknown as Sandbox);
  /** The API server's refusal: 422 Invalid, with every message fragment in `expect`. */
  const refused = async (attempt: Promise<unknown>, ...expect: RegExp[]) => {
    const err = await attempt.then(() => null, (e: unknown) => e);
    assert.ok(err instanceof KubeApiError, `expected a refusal, got ${err === null ? 'success' : String(err)}`);
    assert.equal(err.status, 422, err.message);
    assert.equal(err.reason, 'Invalid');
    assert.equal(err.code, 'invalid_argument');
    for (const re of expect) assert.match(err.message, re);
  };

  it('refuses a Sandbox whose pod template has no containers', async () => {
    await refused(sandbox({ restartPolicy: 'Never' }), /spec\.podTemplate\.spec\.containers: Required value/);
  });

  it('refuses a container name that is not a DNS label', async () => {
    await refused(sandbox({ containers: [{ name: 'Main_1', image: 'busybox' }] }),
      /spec\.podTemplate\.spec\.containers\[0\]\.name/, /should match/);
  });

  it('refuses negative resources, as strings and as integers', async () => {
    await refused(sandbox({ containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '-1' } } }] }),
      /spec\.podTemplate\.spec\.containers\[0\]\.resources\.limits\.cpu/);
    await refused(sandbox({ containers: [{ name: 'main', image: 'busybox', resources: { requests: { memory: -5 } } }] }),
      /spec\.podTemplate\.spec\.containers\[0\]\.resources\.requests\.memory/);
  });

  it('refuses duplicate container names and a port out of range', async () => {
    await refused(sandbox({ containers: [{ name: 'a', image: 'busybox' }, { name: 'a', image: 'busybox' }] }), /Duplicate value/);
    await refused(sandbox({ containers: [{ name: 'a', image: 'busybox', ports: [{ containerPort: 70000 }] }] }), /containerPort/);
  });

  it('refuses a bad volume claim spec and a bad network policy rule', async () => {
    const vct = { metadata: { name: 'work' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '-1Gi' } } } };
    await refused(client.create(CLAIMS, ns, { metadata: { name: 'c-bad' }, spec: { warmPoolRef: { name: 'p' }, volumeClaimTemplates: [vct] } } as KubeObject),
      /spec\.volumeClaimTemplates\[0\]\.spec\.resources\.requests\.storage/);
    await refused(client.create(TEMPLATES, ns, {
      metadata: { name: 't-bad' },
      spec: { podTemplate: { spec: { containers: [{ name: 'main', image: 'busybox' }] } }, networkPolicy: { egress: [{ ports: [{ port: 53, endPort: 0 }] }] } },
    } as KubeObject), /spec\.networkPolicy\.egress\[0\]\.ports\[0\]\.endPort/);
  });

  it('accepts a valid Sandbox, keeping what it says (quantities as written, no injected defaults)', async () => {
    const created = await sandbox({
      containers: [{ name: 'main', image: 'busybox', resources: { limits: { cpu: '500m', memory: 268435456 } }, ports: [{ containerPort: 8080, name: 'http' }] }],
      volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }],
    });
    const c = (created.spec.podTemplate.spec as unknown as { containers: { resources: { limits: Record<string, unknown> }; ports: Record<string, unknown>[]; imagePullPolicy?: string }[] }).containers[0]!;
    assert.deepEqual(c.resources.limits, { cpu: '500m', memory: 268435456 });
    // The list-map key's default (the one default a CRD must keep) is filled in; nothing else is.
    assert.deepEqual(c.ports, [{ containerPort: 8080, name: 'http', protocol: 'TCP' }]);
    assert.equal(c.imagePullPolicy, undefined);
  });

  describe('SandboxConfig (cluster-scoped)', () => {
    /** A server-side dry-run create: full validation, nothing stored in the shared cluster. */
    const dryRun = (obj: SandboxConfig) => client.request('POST', `${client.path(SANDBOX_CONFIGS)}?dryRun=All`, obj);
    const withAmd64 = (asset: Record<string, unknown>) => {
      const c = goodSandboxConfig('sbxconfig-bad');
      c.spec.runtime.assets.amd64 = asset;
      return c;
    };
    const url = 'https://example.com/runsc';

    it('accepts a valid SandboxConfig, with no namespace, keeping what it says', async () => {
      const name = `sbxconfig-crdval-${process.pid}-${n++}`;
      const created = await client.create(SANDBOX_CONFIGS, undefined, goodSandboxConfig(name, { default: false }));
      try {
        assert.equal(created.metadata.namespace, undefined);
        assert.deepEqual(created.spec, goodSandboxConfig(name, { default: false }).spec);
      } finally { await client.delete(SANDBOX_CONFIGS, undefined, name); }
    });

    it('refuses an asset without a sha256, or with one that is short, upper-case or not hex', async () => {
      await refused(dryRun(withAmd64({ url })), /spec\.runtime\.assets\.amd64\.sha256: Required value/);
      for (const sha256 of ['a'.repeat(63), 'A'.repeat(64), 'g'.repeat(64), `${'a'.repeat(64)}\n`]) {
        await refused(dryRun(withAmd64({ url, sha256 })), /spec\.runtime\.assets\.amd64\.sha256/, /should match '\^\[a-f0-9\]\{64\}\$'/);
      }
    });

    it('refuses an asset URL that is neither https:// nor file:///, and an asset without one', async () => {
      const sha256 = 'b'.repeat(64);
      for (const bad of ['http://example.com/runsc', 'ftp://example.com/runsc', 'file://host/runsc', 'runsc', 'https://']) {
        await refused(dryRun(withAmd64({ url: bad, sha256 })), /spec\.runtime\.assets\.amd64\.url/, /should match '\^\(https:\/\/\|file:\/\/\/\)/);
      }
      await refused(dryRun(withAmd64({ sha256 })), /spec\.runtime\.assets\.amd64\.url: Required value/);
    });

    it('refuses an unknown class, no assets, and assets only for an architecture it does not know (pruned, leaving none)', async () => {
      await refused(dryRun(goodSandboxConfig('sbxconfig-bad', { class: 'runc' })), /spec\.class: Unsupported value: "runc"/);
      await refused(dryRun(goodSandboxConfig('sbxconfig-bad', { runtime: { assets: {} } })), /spec\.runtime\.assets/, /should have at least 1 properties/);
      const riscv = goodSandboxConfig('sbxconfig-bad', { runtime: { assets: { riscv64: { url, sha256: 'c'.repeat(64) } } } });
      await refused(dryRun(riscv), /spec\.runtime\.assets/);
    });
  });
});
