// The bundled build (npm run build → dist/) in the layout the operator image ships (bin/, dist/,
// package.json; no src/, no node_modules): `agentbox operator` and `agentbox router` run from it,
// and the operator reconciles.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PODS, type KubeClient } from '../../src/k8s/client.ts';
import { SANDBOXES } from '../../src/k8s/resources.ts';
import type { Sandbox } from '../../src/api/k8s/types.ts';
import { adminClient, basicPodSpec, createNamespace, deleteNamespace, ensureEnv, installCrds, KUBECONFIG, waitFor } from './harness.ts';

const skip = ensureEnv();
if (skip) console.log(`# skipping bundle tests: ${skip}`);
const root = new URL('../..', import.meta.url).pathname;

describe('bundled build, as the image ships it', { skip: skip ?? false }, () => {
  let client: KubeClient;
  let ns: string;
  let image: string;
  const children: ChildProcess[] = [];

  before(async () => {
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    image = mkdtempSync(join(tmpdir(), 'agentbox-image-'));
    for (const part of ['bin', 'dist', 'package.json']) cpSync(join(root, part), join(image, part), { recursive: true });
    client = await adminClient();
    await installCrds(client);
    ns = await createNamespace(client, 'bundle');
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) { c.kill('SIGTERM'); await new Promise((r) => c.once('exit', r)); }
    if (ns) await deleteNamespace(client, ns);
    client?.close();
    if (image) rmSync(image, { recursive: true, force: true });
  });

  /** Runs the image's `agentbox <args>`; resolves once its stderr log (JSON lines) says `msg`. */
  const runUntil = async (args: string[], msg: string) => {
    const child = spawn(process.execPath, [join(image, 'bin/agentbox.mjs'), ...args], { cwd: image, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let log = '';
    child.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
    await waitFor(`"${msg}" from the bundled ${args[0]}`, () => {
      if (child.exitCode !== null) throw new Error(`${args[0]} exited ${child.exitCode}: ${log.slice(-400)}`);
      return log.includes(`"msg":"${msg}"`) ? true : null;
    }, 30_000);
  };

  it('runs the operator, which reconciles a Sandbox', async () => {
    await runUntil(['operator', '--kubeconfig', KUBECONFIG, '--namespace', ns, '--extensions', '--enable-webhook=false', '--metrics-bind-address=0', '--health-probe-bind-address=0'], 'operator started');
    await client.create<Sandbox>(SANDBOXES, ns, { metadata: { name: 'from-bundle' }, spec: { podTemplate: { spec: basicPodSpec() } } } as Sandbox);
    await waitFor('pod from the bundled operator', () => client.getOrNull(PODS, ns, 'from-bundle'), 30_000);
  });

  it('runs the router', async () => {
    await runUntil(['router', '--kubeconfig', KUBECONFIG, '--namespace', ns, '--authz-mode=allow-all', '--host', '127.0.0.1', '--port', '0'], 'router listening');
  });
});
