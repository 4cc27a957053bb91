// The node agent's API at its edge: the token, bad bodies, unknown routes and pods, a refused
// restore, each with its HTTP status and code, through the operator's own client. It runs the
// real runsc built by scripts/build-runsc.sh against a runsc root of its own (no sandboxes in it);
// checkpoints and restores of real pods are test/k8s/hibernation-real-node.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentboxError } from '../../src/api/errors.ts';
import { defaultCacheDir } from '../../src/engine/runtime/runtime-classes.ts';
import { generateWebhookCerts } from '../../src/k8s/conversion/certs.ts';
import { HttpNodeAgents, NODE_AGENT_TLS_NAME } from '../../src/k8s/node/client.ts';
import { nodeCommand } from '../../src/k8s/node/cli.ts';
import { startNodeAgentServer, type RunningNodeAgent } from '../../src/k8s/node/server.ts';
import { NodeSnapshots } from '../../src/k8s/node/snapshots.ts';
import { skipOutsideCI } from '../support/ci.ts';

const root = new URL('../..', import.meta.url).pathname;
const pin = /RUNSC_VERSION:-(v[^}]+)\}/.exec(readFileSync(join(root, 'scripts/build-runsc.sh'), 'utf8'))![1]!;
const RUNSC = join(defaultCacheDir(), 'runsc', pin, 'runsc');
const skip = existsSync(RUNSC) ? false : skipOutsideCI(`runsc ${pin} is not built`, 'run bash scripts/build-runsc.sh');

describe('node agent API', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abx-node-agent-'));
  const token = randomBytes(24).toString('hex');
  let agent: RunningNodeAgent;
  let url = '';
  const client = () => new HttpNodeAgents({ token, urlOf: async () => url });
  const raw = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, init);
  const bearer = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

  before(async () => {
    const snapshots = new NodeSnapshots({ node: 'n1', runsc: { binary: RUNSC, root: join(dir, 'runsc-root') }, dir: join(dir, 'snapshots') });
    agent = await startNodeAgentServer({ snapshots, token, host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${agent.port}`;
  });
  after(async () => {
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const code = async (res: Response) => ({ status: res.status, ...(await res.json() as { code: string; message: string }) });

  it('answers 401 without the token, or with another one; /healthz needs none', async () => {
    const body = JSON.stringify({ namespace: 'ns', name: 'p', uid: 'u' });
    assert.deepEqual(await code(await raw('/v1/checkpoints', { method: 'POST', body })),
      { status: 401, code: 'unauthenticated', message: 'the node agent needs its token as Authorization: Bearer' });
    assert.equal((await raw('/v1/checkpoints', { method: 'POST', body, headers: { Authorization: `Bearer ${token.slice(1)}x` } })).status, 401);
    assert.equal((await raw('/healthz')).status, 200);
  });

  it('answers 400 naming the field for a bad body, 404 for an unknown route', async () => {
    const bad = await code(await raw('/v1/checkpoints', { method: 'POST', headers: bearer, body: JSON.stringify({ namespace: 'NS!', name: 'p' }) }));
    assert.equal(bad.status, 400);
    assert.match(bad.message, /namespace: a Kubernetes object name; uid: .*expected string/);
    assert.equal((await code(await raw('/v1/checkpoints', { method: 'POST', headers: bearer, body: '{' }))).message, 'request body is not JSON');
    assert.equal((await raw('/v1/snapshots/ns/not-an-id', { method: 'DELETE', headers: bearer })).status, 400);
    assert.equal((await raw('/v1/nothing', { headers: bearer })).status, 404);
  });

  it('answers not_found for a pod without a gVisor sandbox on the node', async () => {
    await assert.rejects(client().checkpoint('n1', { namespace: 'ns', name: 'p', uid: 'u1' }),
      (e: unknown) => e instanceof AgentboxError && e.code === 'not_found' && /pod ns\/p \(uid u1\) has no running gVisor sandbox on this node/.test(e.message));
  });

  it('answers not_found for a snapshot the node does not hold, integrity_error for an unfinished one', async () => {
    const req = { namespace: 'ns', name: 'p', snapshotId: 'snap-0123456789abcdef', containers: [{ name: 'main', image: 'busybox' }] };
    await assert.rejects(client().prepareRestore('n1', req),
      (e: unknown) => e instanceof AgentboxError && e.code === 'not_found' && /snapshot snap-0123456789abcdef of namespace ns is not on node n1/.test(e.message));
    mkdirSync(join(dir, 'snapshots', 'ns', req.snapshotId, 'images'), { recursive: true });
    await assert.rejects(client().prepareRestore('n1', req),
      (e: unknown) => e instanceof AgentboxError && e.code === 'integrity_error' && /has no manifest: it was never completed/.test(e.message));
  });

  it('revokes a pod\'s restore grant: the snapshot stays, the grant goes; a second revoke is no error', async () => {
    const snap = join(dir, 'snapshots', 'ns', 'snap-00000000000grant');
    mkdirSync(join(snap, 'restore-grants', 'ns'), { recursive: true });
    writeFileSync(join(snap, 'restore-grants', 'ns', 'member-1'), '');
    writeFileSync(join(snap, 'restore-grants', 'ns', 'member-2'), '');
    await client().revokeRestore('n1', 'ns', 'snap-00000000000grant', 'member-1');
    await client().revokeRestore('n1', 'ns', 'snap-00000000000grant', 'member-1');
    assert.equal(existsSync(join(snap, 'restore-grants', 'ns', 'member-1')), false);
    assert.equal(existsSync(join(snap, 'restore-grants', 'ns', 'member-2')), true, "another pod's grant stays");
    assert.equal((await raw('/v1/restores/ns/snap-00000000000grant/..%2F..%2Fx', { method: 'DELETE', headers: bearer })).status, 400);
    assert.equal((await raw('/v1/restores/ns/snap-00000000000grant/member-2', { method: 'DELETE' })).status, 401);
  });

  it('refuses an unknown --store, and --store s3 without a bucket, before it starts', async () => {
    const base = ['--node-name', 'n1', '--runsc', RUNSC, '--runsc-root', join(dir, 'runsc-root'), '--token-file', join(dir, 'no-token')];
    await assert.rejects(nodeCommand([...base, '--store', 'pvc']),
      (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && e.message === '--store is node or s3, not "pvc"');
    await assert.rejects(nodeCommand([...base, '--store', 's3']),
      (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && e.message === 'agentbox node needs --s3-bucket');
  });

  it('answers the runtime routes with 400 for a bad body and 501 when it does not manage its runsc', async () => {
    const bad = await code(await raw('/v1/runtime', { method: 'PUT', headers: bearer, body: JSON.stringify({ config: 'c', url: 'http://plain.example/runsc', sha256: 'A'.repeat(64) }) }));
    assert.equal(bad.status, 400);
    assert.match(bad.message, /url: an https:\/\/ or file:\/\/\/ URL; sha256: 64 lower-case hex digits/);
    assert.deepEqual(await code(await raw('/v1/runtime', { headers: bearer })), {
      status: 501, code: 'not_supported', message: 'this node agent runs without --runtime-dir, so its runsc is not managed by SandboxConfigs',
    });
    await assert.rejects(client().installRuntime('n1', { config: 'c', url: 'file:///opt/runsc', sha256: 'a'.repeat(64) }),
      (e: unknown) => e instanceof AgentboxError && e.code === 'not_supported');
    assert.equal((await raw('/v1/runtime', { method: 'PUT', body: '{}' })).status, 401);
  });

  it('says when the agent is unreachable', async () => {
    const down = new HttpNodeAgents({ token, urlOf: async () => 'http://127.0.0.1:1' });
    await assert.rejects(down.deleteSnapshot('n9', 'ns', 'snap-0123456789abcdef'),
      (e: unknown) => e instanceof AgentboxError && e.code === 'unavailable' && /the node agent of n9 .* is unreachable/.test(e.message));
  });
});

describe('node agent API over TLS', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abx-node-agent-tls-'));
  const token = randomBytes(24).toString('hex');
  // Every agent serves one certificate, issued to one name; the operator trusts only its CA.
  const certs = generateWebhookCerts([NODE_AGENT_TLS_NAME], []);
  let agent: RunningNodeAgent;
  let port = 0;
  const req = { namespace: 'ns', name: 'p', snapshotId: 'snap-0123456789abcdef', containers: [{ name: 'main', image: 'busybox' }] };
  const unreachable = (pattern: RegExp) => (e: unknown) => e instanceof AgentboxError && e.code === 'unavailable' && /is unreachable/.test(e.message) && pattern.test(e.message);

  before(async () => {
    const snapshots = new NodeSnapshots({ node: 'n1', runsc: { binary: RUNSC, root: join(dir, 'runsc-root') }, dir: join(dir, 'snapshots') });
    agent = await startNodeAgentServer({ snapshots, token, tls: { cert: certs.certPem, key: certs.keyPem }, host: '127.0.0.1', port: 0 });
    port = agent.port;
  });
  after(async () => {
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the operator's client that trusts its CA, at the node's address, with the token", async () => {
    const agents = new HttpNodeAgents({ token, urlOf: async () => `https://127.0.0.1:${port}`, tls: { ca: certs.caPem } });
    await assert.rejects(agents.prepareRestore('n1', req), (e: unknown) => e instanceof AgentboxError && e.code === 'not_found');
    await agents.close();
    const wrongToken = new HttpNodeAgents({ token: 'x'.repeat(48), urlOf: async () => `https://127.0.0.1:${port}`, tls: { ca: certs.caPem } });
    await assert.rejects(wrongToken.prepareRestore('n1', req), (e: unknown) => e instanceof AgentboxError && e.code === 'unauthenticated');
    await wrongToken.close();
  });

  it('is refused by a client that trusts another CA or expects another name, and does not speak plain HTTP', async () => {
    const other = generateWebhookCerts([NODE_AGENT_TLS_NAME], []);
    for (const [tls, pattern] of [
      [{ ca: other.caPem }, /self-signed|unable to verify|certificate/i],
      [{ ca: certs.caPem, serverName: 'someone-else' }, /altnames|does not match|Hostname/i],
    ] as const) {
      const agents = new HttpNodeAgents({ token, urlOf: async () => `https://127.0.0.1:${port}`, tls });
      await assert.rejects(agents.prepareRestore('n1', req), unreachable(pattern));
      await agents.close();
    }
    const plain = new HttpNodeAgents({ token, urlOf: async () => `http://127.0.0.1:${port}` });
    await assert.rejects(plain.prepareRestore('n1', req), unreachable(/other side closed/));
    const downgraded = new HttpNodeAgents({ token, urlOf: async () => `http://127.0.0.1:${port}`, tls: { ca: certs.caPem } });
    await assert.rejects(downgraded.prepareRestore('n1', req), /is not https although TLS is configured/);
  });

  it('needs both the certificate and the key to serve TLS', async () => {
    writeFileSync(join(dir, 'token'), token);
    writeFileSync(join(dir, 'tls.crt'), certs.certPem);
    await assert.rejects(nodeCommand(['--node-name', 'n1', '--runsc', RUNSC, '--runsc-root', join(dir, 'runsc-root'), '--token-file', join(dir, 'token'),
      '--snapshots', join(dir, 'snapshots'), '--tls-cert-file', join(dir, 'tls.crt')]),
    (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && e.message === 'give both --tls-cert-file and --tls-key-file, or neither');
  });
});
