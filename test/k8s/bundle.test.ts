// The bundled build (npm run build → dist/) in the layout the operator image ships (bin/, dist/,
// package.json; no src/, no node_modules): `agentbox operator` and `agentbox router` run from it,
// the operator reconciles, and `agentbox up --kubernetes` serves the web console that the build
// put beside it (dist/console/).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
    image = mkdtempSync(join(tmpdir(), 'agentbox-image-'));
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), join(image, 'dist')], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    for (const part of ['bin', 'package.json']) cpSync(join(root, part), join(image, part), { recursive: true });
    mkdirSync(join(image, 'home'));
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

  /** Runs the image's `agentbox <args>`; resolves with the match once its output (stdout and stderr) matches `wanted`. */
  const runUntil = async (args: string[], wanted: RegExp) => {
    // Its own AGENTBOX_HOME: `up` keeps its admin key there.
    const child = spawn(process.execPath, [join(image, 'bin/agentbox.mjs'), ...args], { cwd: image, env: { ...process.env, AGENTBOX_HOME: join(image, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let log = '';
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (b: Buffer) => { log += b.toString(); });
    return waitFor(`${wanted} from the bundled ${args[0]}`, () => {
      if (child.exitCode !== null) throw new Error(`${args[0]} exited ${child.exitCode}: ${log.slice(-400)}`);
      return wanted.exec(log);
    }, 30_000);
  };

  it('runs the operator, which reconciles a Sandbox', async () => {
    await runUntil(['operator', '--kubeconfig', KUBECONFIG, '--namespace', ns, '--extensions', '--enable-webhook=false', '--metrics-bind-address=0', '--health-probe-bind-address=0'], /"msg":"operator started"/);
    await client.create<Sandbox>(SANDBOXES, ns, { metadata: { name: 'from-bundle' }, spec: { podTemplate: { spec: basicPodSpec() } } } as Sandbox);
    await waitFor('pod from the bundled operator', () => client.getOrNull(PODS, ns, 'from-bundle'), 30_000);
  });

  it('runs the router', async () => {
    await runUntil(['router', '--kubeconfig', KUBECONFIG, '--namespace', ns, '--authz-mode=allow-all', '--host', '127.0.0.1', '--port', '0'], /"msg":"router listening"/);
  });

  it('runs the server, which serves the web console at /ui', async () => {
    // The router is never called here: /ui is the server's own static files.
    const [, url] = await runUntil(['up', '--kubernetes', '--kubeconfig', KUBECONFIG, '--namespace', ns, '--router-url', 'http://127.0.0.1:9',
      '--router-authz-mode', 'allow-all', '--host', '127.0.0.1', '--port', '0'], /agentbox is running on (http:\/\/\S+)/);
    const page = await fetch(`${url}/ui/`);
    const html = await page.text();
    assert.equal(page.status, 200, html);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const assets = [...html.matchAll(/(?:src|href)="(assets\/console-[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2, `the page names its script and style: ${html}`);
    for (const asset of assets) {
      const res = await fetch(`${url}/ui/${asset}`);
      const body = await res.text();
      assert.equal(res.status, 200, `${asset}: ${body}`);
      assert.ok(body.length > 0, asset);
    }
  });
});
