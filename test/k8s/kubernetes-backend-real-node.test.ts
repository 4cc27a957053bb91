// test-file-timeout: 30 min
// `agentbox up --kubernetes` over real gVisor pods (issue 11 §2 on the node of scripts/k8s-node.sh):
// the server's /e2b over SandboxClaims, the real operator and sandbox router in-process, and
// nothing playing the kubelet. The E2B SDK scenarios that pass on one machine pass here, with
// every command and file going server → router (scoped tokens) → the pod's injected guest, and
// the sandbox's commands run under gVisor; the OpenSandbox SDK's commands and files reach execd
// in the pod's guest the same way. kubernetes-backend.test.ts holds the rest of the
// backend's behaviour over simulated pods (quick to start, so it covers every API path).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningKubernetesServer } from '../../src/app/kubernetes-server.ts';
import type { KubeClient } from '../../src/k8s/client.ts';
import { sdkManifest, type SdkManifest } from '../e2b/fixture.ts';
import { importJsSdk, openSandboxSdks } from '../opensandbox/fixture.ts';
import { assertE2bScenariosPass } from './e2b-on-kubernetes.ts';
import { adminClient, ensureEnv } from './harness.ts';
import { startRealNodeStack, type KubernetesStack } from './kubernetes-stack.ts';

const skip = ensureEnv();
const manifest = sdkManifest();

describe('agentbox on Kubernetes over real gVisor pods', { skip: skip ?? (typeof manifest === 'string' ? manifest : false) }, () => {
  let client: KubeClient;
  let nodeSkip: string | undefined;
  let stack: KubernetesStack | undefined;
  let server: RunningKubernetesServer;

  before(async () => {
    client = await adminClient();
    const started = await startRealNodeStack(client, 'kbr');
    if ('skip' in started) { nodeSkip = started.skip; return; }
    stack = started;
    server = stack.server;
  });
  after(async () => {
    await stack?.close();
    client?.close();
  });

  it('runs a command in a gVisor pod through the router', { timeout: 300_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    const api = (path: string, init: { method?: string; json?: unknown } = {}) => fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { Authorization: `Bearer ${server.adminKey}`, 'Content-Type': 'application/json' },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });
    const created = await api('/v1/sandboxes', { method: 'POST', json: { template: 'base', timeoutSeconds: 600 } });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    const run = await api(`/v1/sandboxes/${id}/exec`, { method: 'POST', json: { cmd: ['/bin/sh', '-c', 'dmesg | head -3'] } });
    assert.equal(run.status, 200, await run.clone().text());
    const r = (await run.json()) as { exitCode: number; stdout: string };
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /gVisor/, 'the command ran under gVisor');
    assert.equal((await api(`/v1/sandboxes/${id}`, { method: 'DELETE' })).status, 204);
  });

  it('passes the E2B SDK scenarios that pass on one machine (npm e2b latest)', { timeout: 600_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    await assertE2bScenariosPass(manifest as SdkManifest, server, 540_000);
  });

  it('serves the OpenSandbox SDK: create, commands and files through execd in the pod', { timeout: 300_000 }, async (t) => {
    if (nodeSkip) return t.skip(nodeSkip);
    const sdks = openSandboxSdks();
    if (typeof sdks === 'string') return t.skip(sdks);
    const os = await importJsSdk(sdks.js.at(-1)!.dir);
    const sbx = await os.Sandbox.create({ connectionConfig: { domain: `${server.url}/opensandbox`, apiKey: server.adminKey }, image: 'base', timeoutSeconds: 600 });
    try {
      const r = await sbx.commands.run('hostname; dmesg | head -3');
      assert.match(r.logs.stdout.map((l: { text: string }) => l.text).join('\n'), /gVisor/, 'execd runs in the gVisor pod');
      await sbx.files.writeFiles([{ path: '/tmp/os.txt', data: 'from the SDK' }]);
      assert.equal(await sbx.files.readFile('/tmp/os.txt'), 'from the SDK');
    } finally {
      await sbx.kill();
    }
  });
});
