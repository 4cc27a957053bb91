// The node's SandboxConfig-managed runsc (runtime.ts) on real files, links and an HTTPS server.
// The binaries are stand-ins, shell scripts that answer `--version` as runsc does: what is under
// test is fetching, verifying and switching. test/k8s/sandbox-config-real-node.test.ts runs
// real runsc builds installed this way under the real gVisor shim.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from 'undici';
import { AgentboxError } from '../../api/errors.ts';
import { generateWebhookCerts } from '../conversion/certs.ts';
import { NodeRuntime } from './runtime.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const script = (version: string) => `#!/bin/sh\necho "runsc version ${version}"\necho "spec: 1.1.0-rc.1"\n`;
const fails = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof AgentboxError, String(e));
  assert.equal(e.code, code);
  assert.match(e.message, pattern);
  return true;
};

describe('NodeRuntime: the runsc a SandboxConfig names', () => {
  let dir = '';
  let server: https.Server;
  let base = '';
  let trusting: typeof fetch;
  const file = (name: string, content: string) => {
    const path = join(dir, 'assets', name);
    writeFileSync(path, content);
    chmodSync(path, 0o755);
    return { url: pathToFileURL(path).href, sha256: sha256(content) };
  };
  const runtime = (maxBytes?: number) => new NodeRuntime({ dir: join(dir, 'runtime'), initial: join(dir, 'assets', 'initial'), fetch: trusting, maxBytes });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'abx-runtime-'));
    mkdirSync(join(dir, 'assets'));
    file('initial', script('release-initial'));
    const certs = generateWebhookCerts(['localhost']);
    const served = new Map([['/v2/runsc', script('release-over-https')]]);
    server = https.createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      const body = served.get(req.url ?? '');
      if (body === undefined) { res.writeHead(404).end('no such asset'); return; }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dispatcher = new Agent({ connect: { ca: certs.caPem } });
    trusting = ((url: string | URL | Request, init?: RequestInit) => fetch(url, { ...init, dispatcher } as unknown as RequestInit)) as typeof fetch;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts on the binary it was given, installs a verified one from file:// and switches to it by its link', async () => {
    const rt = runtime();
    await rt.init();
    const initial = await rt.state();
    assert.deepEqual(initial, { sha256: sha256(script('release-initial')), version: 'runsc version release-initial', changed: false });

    const two = file('two', script('release-two'));
    const installed = await rt.install({ config: 'gvisor-two', ...two });
    assert.deepEqual(installed, { sha256: two.sha256, version: 'runsc version release-two', config: 'gvisor-two', changed: true });
    assert.equal(readlinkSync(rt.path), join('sha256', two.sha256, 'runsc'));
    assert.equal(readFileSync(rt.path, 'utf8'), script('release-two'));
    assert.deepEqual(await rt.state(), { ...installed, changed: false });
    // The same again changes nothing.
    assert.equal((await rt.install({ config: 'gvisor-two', ...two })).changed, false);
  });

  it('keeps the installed binary across a restart of the agent', async () => {
    const rt = runtime();
    await rt.init();
    assert.deepEqual(await rt.state(), { sha256: sha256(script('release-two')), version: 'runsc version release-two', config: 'gvisor-two', changed: false });
  });

  it('fetches over https, hashing what arrives', async () => {
    const rt = runtime();
    const got = await rt.install({ config: 'gvisor-https', url: `${base}/v2/runsc`, sha256: sha256(script('release-over-https')) });
    assert.equal(got.version, 'runsc version release-over-https');
    assert.equal(readFileSync(rt.path, 'utf8'), script('release-over-https'));
  });

  it('refuses a binary whose sha256 differs, one that is not runsc, a missing or oversized one, and keeps what it ran', async () => {
    const rt = runtime(4096);
    const before = await rt.state();
    const wrongSha = file('tampered', script('release-tampered'));
    await assert.rejects(rt.install({ config: 'bad', url: wrongSha.url, sha256: 'f'.repeat(64) }),
      fails('integrity_error', new RegExp(`has sha256 ${wrongSha.sha256}, but SandboxConfig bad says f{64}; not installed`)));
    const notRunsc = file('not-runsc', '#!/bin/sh\necho hello\n');
    await assert.rejects(rt.install({ config: 'bad', ...notRunsc }), fails('integrity_error', /the binary is not runsc: `--version` printed "hello"/));
    const notExecutable = file('elf-of-nothing', 'not a program at all');
    await assert.rejects(rt.install({ config: 'bad', ...notExecutable }), fails('integrity_error', /the binary does not run/));
    await assert.rejects(rt.install({ config: 'bad', url: pathToFileURL(join(dir, 'assets', 'nowhere')).href, sha256: 'a'.repeat(64) }),
      fails('not_found', /no such file on node/));
    await assert.rejects(rt.install({ config: 'bad', url: `${base}/v9/runsc`, sha256: 'a'.repeat(64) }), fails('unavailable', /HTTP 404/));
    const big = file('big', `${script('release-big')}#${'x'.repeat(5000)}\n`);
    await assert.rejects(rt.install({ config: 'bad', ...big }), fails('integrity_error', /larger than 4096 bytes/));

    assert.deepEqual(await rt.state(), before);
    assert.deepEqual(readdirSync(join(dir, 'runtime', 'incoming')), [], 'nothing half-fetched is left');
    for (const refused of [wrongSha, notRunsc, notExecutable, big]) assert.ok(!existsSync(join(dir, 'runtime', 'sha256', refused.sha256)));
  });

  it('serialises installs: the last one asked for is the one the node runs', async () => {
    const rt = runtime();
    const a = file('a', script('release-a'));
    const b = file('b', script('release-b'));
    await Promise.all([rt.install({ config: 'a', ...a }), rt.install({ config: 'b', ...b })]);
    assert.equal((await rt.state()).version, 'runsc version release-b');
  });
});
