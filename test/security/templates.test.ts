// Template builds on a multi-tenant server (security review C1, C2, H1, H2, L10, M4), attacked
// through the API of a real server over the real engine (builds run in gVisor when it is
// available, else runc), with tenants and keys an admin makes through that API.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import Database from 'better-sqlite3';
import type { AgentboxError } from '../../src/api/errors.ts';
import { openDb } from '../../src/server/db.ts';
import { TemplateAccess } from '../../src/server/templates.ts';
import { FakeCatalog } from '../support/fake-engine.ts';
import { sh } from '../engine/fixture.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';

const STEP_TIMEOUT_MS = 8000;
let s: RealServer | undefined;
let skip: string | false = false;
/** Host-side scratch: the admin's import dir, attack targets, image sources. */
let scratch: string;
let importDir: string;
const keys: Record<string, string> = {};
const tenantIds: Record<string, string> = {};

before(async () => {
  // Not under /tmp: gVisor gives build sandboxes their own /tmp, and the attack paths below must
  // exist in the image's view as they do on the host.
  scratch = await mkdtemp('/var/tmp/agentbox-sec-templates-');
  importDir = join(scratch, 'imports');
  await mkdir(importDir);
  const r = await startRealServer('sec-templates', {
    templates: { importDir, mirrorHosts: ['deb.debian.org'], stepTimeoutMs: STEP_TIMEOUT_MS, buildTimeoutMs: 120_000 },
  });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
  for (const tenant of ['alpha', 'beta']) {
    const res = await s.api('/v1/keys', { method: 'POST', json: { tenant } });
    assert.equal(res.status, 201, await res.clone().text());
    keys[tenant] = (await res.json()).key;
  }
  for (const t of (await (await s.api('/v1/tenants')).json()).tenants as { id: string; name: string }[]) tenantIds[t.name] = t.id;
});
after(async () => {
  await s?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const build = (tenant: string, recipe: unknown) => s!.api('/v1/templates', { method: 'POST', key: keys[tenant], json: recipe });

async function expectError(res: { status: number; text(): Promise<string> }, status: number, code: string, message: RegExp): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as { code: string; message: string };
  assert.equal(body.code, code, text);
  assert.match(body.message, message);
}

/** Runs `line` in a fresh sandbox of `template` as `tenant`, returns its stdout. */
async function inSandbox(tenant: string, template: string, line: string): Promise<string> {
  const res = await s!.api('/v1/sandboxes', { method: 'POST', key: keys[tenant], json: { template } });
  assert.equal(res.status, 201, await res.clone().text());
  const id = (await res.json()).id as string;
  try {
    return await sh(s!.created.engine, id, line);
  } finally {
    await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE', key: keys[tenant] });
  }
}

describe('C1: recipe files never land outside the image', () => {
  test('a ".." path is refused with a message that says what to change', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const target = join(scratch, 'dotdot-pwned');
    const res = await build('alpha', { name: 'dotdot', from: { template: 'busybox' }, files: [{ path: `/${'../'.repeat(24)}${target.slice(1)}`, content: 'pwned\n' }] });
    await expectError(res, 400, 'invalid_argument', /files\.0\.path.*"\.\."/);
    assert.equal(existsSync(target), false, 'the host file was written');
  });

  test('symlinks of a lower layer resolve inside the image, never on the host', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    // A host directory and a host file the attacker aims at, by absolute path.
    const hostDir = join(scratch, 'victim-dir');
    const hostFile = join(scratch, 'victim-file');
    await mkdir(hostDir);
    await writeFile(hostFile, 'original\n');
    // The parent's layer holds absolute symlinks to those paths (as Debian has /usr/bin/awk →
    // /etc/alternatives/awk); the image has its own directory of the same path.
    const parent = await build('alpha', {
      name: 'links', from: { template: 'busybox' },
      run: [`mkdir -p ${hostDir}`, `ln -s ${hostDir} /escape`, `ln -s ${hostFile} /victim-link`],
    });
    assert.equal(parent.status, 201, await parent.text());
    const child = await build('alpha', {
      name: 'writer', from: { template: 'links' },
      files: [{ path: '/escape/pwned', content: 'in the image\n' }, { path: '/victim-link', content: 'replaced\n', mode: 0o755 }],
    });
    assert.equal(child.status, 201, await child.text());
    assert.equal(existsSync(join(hostDir, 'pwned')), false, 'a file was written through the symlink onto the host');
    assert.equal(await readFile(hostFile, 'utf8'), 'original\n', 'the host file was overwritten');
    // Confined: both writes landed inside the image.
    assert.equal(await inSandbox('alpha', 'writer', `cat ${hostDir}/pwned /victim-link; test -L /victim-link || echo regular`), 'in the image\nreplaced\nregular');
  });

  test('setuid, setgid and sticky modes and oversized file lists are refused', { timeout: 30_000 }, async (t) => {
    if (skip) return t.skip(skip);
    await expectError(await build('alpha', { name: 'suid', from: { template: 'busybox' }, files: [{ path: '/bin/x', content: '', mode: 0o4755 }] }), 400, 'invalid_argument', /setuid/);
    const many = Array.from({ length: 1001 }, (_, i) => ({ path: `/f${i}`, content: '' }));
    await expectError(await build('alpha', { name: 'many', from: { template: 'busybox' }, files: many }), 400, 'invalid_argument', /at most 1000 files/);
  });
});

describe('C2, H1, L10: template names are per tenant', () => {
  test('a tenant can neither rebuild nor shadow a public template', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    for (const name of ['base', 'busybox']) {
      await expectError(await build('alpha', { name, from: { busybox: {} }, env: { HIJACKED: '1' } }), 403, 'permission_denied', /public template.*only an admin/);
    }
    const listed = (await (await s!.api('/v1/templates', { key: keys.beta! })).json()).templates as { name: string; visibility: string }[];
    assert.deepEqual(listed.filter((x) => x.name === 'base' || x.name === 'busybox').map((x) => x.visibility), ['public', 'public']);
    assert.equal(await inSandbox('beta', 'busybox', 'echo ${HIJACKED:-clean}'), 'clean');
    assert.equal(s!.created.templates.find('busybox')?.recipe.env.HIJACKED, undefined, 'the public image was replaced');
  });

  test('two tenants own the same name without colliding, and without learning of each other', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    for (const tenant of ['alpha', 'beta']) {
      const res = await build(tenant, { name: 'shared-name', from: { template: 'busybox' }, files: [{ path: '/etc/owner', content: tenant }] });
      assert.equal(res.status, 201, `${tenant}: ${await res.clone().text()}`);
      assert.deepEqual(await res.json(), { name: 'shared-name', visibility: 'private', state: 'ready' });
    }
    assert.equal(await inSandbox('alpha', 'shared-name', 'cat /etc/owner'), 'alpha');
    assert.equal(await inSandbox('beta', 'shared-name', 'cat /etc/owner'), 'beta');
    // The admin's own tenant sees neither.
    await expectError(await s!.api('/v1/sandboxes', { method: 'POST', json: { template: 'shared-name' } }), 404, 'not_found', /shared-name/);
  });

  test('from: {template} of another tenant\'s private template is not found', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const secret = await build('alpha', { name: 'alpha-secret', from: { template: 'busybox' }, files: [{ path: '/etc/secret', content: 'alpha only' }] });
    assert.equal(secret.status, 201, await secret.text());
    await expectError(await build('beta', { name: 'steal', from: { template: 'alpha-secret' } }), 404, 'not_found', /alpha-secret.*from\.template/);
    await expectError(await s!.api('/v1/sandboxes', { method: 'POST', key: keys.beta!, json: { template: 'alpha-secret' } }), 404, 'not_found', /alpha-secret/);
    await expectError(await s!.api('/v1/pools/alpha-secret', { method: 'PUT', key: keys.beta!, json: { size: 1 } }), 404, 'not_found', /alpha-secret/);
  });
});

describe('C2: databases from before per-tenant names', () => {
  test('old rows keep their store key; an admin cannot take a key a tenant\'s old template holds', async () => {
    const home = join(scratch, 'v2-home');
    await mkdir(home);
    const old = new Database(join(home, 'state.db'));
    // The tables later migrations touch, as version 2 had them (columns this test reads).
    old.exec(`CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
      CREATE TABLE sandboxes (id TEXT PRIMARY KEY);
      CREATE TABLE pools (tenant_id TEXT NOT NULL, template TEXT NOT NULL, size INTEGER NOT NULL);
      CREATE TABLE templates (name TEXT PRIMARY KEY, owner_tenant TEXT REFERENCES tenants(id), created_at INTEGER NOT NULL);
      INSERT INTO tenants VALUES ('t_old', 'old', 0);
      INSERT INTO templates VALUES ('broken', 't_old', 0), ('shared', NULL, 0);`);
    old.pragma('user_version = 2');
    old.close();
    const db = openDb(join(home, 'state.db'));
    try {
      assert.deepEqual(db.prepare('SELECT name, owner_tenant, store_key FROM templates ORDER BY name').all(), [
        { name: 'broken', owner_tenant: 't_old', store_key: 'broken' }, { name: 'shared', owner_tenant: null, store_key: 'shared' },
      ]);
      const access = new TemplateAccess(db, new FakeCatalog());
      const owner = { tenantId: 't_old', tenantName: 'old', keyId: 'k', admin: false };
      const other = { tenantId: 't_new', tenantName: 'new', keyId: 'k2', admin: false };
      assert.equal((await access.usable(owner, 'broken')).name, 'broken');
      await assert.rejects(access.usable(other, 'broken'), (e: AgentboxError) => e.code === 'not_found');
      await assert.rejects(access.build({ ...other, admin: true }, { name: 'broken', from: { busybox: {} } }), (e: AgentboxError) => e.code === 'conflict');
    } finally {
      db.close();
    }
  });
});

describe('H2: host inputs of a build', () => {
  test('from.oci.path outside the import directory, through a symlink, or at a FIFO is refused', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    await runCommand('ln', ['-s', '/etc', join(importDir, 'etc-link')]);
    await runCommand('mkfifo', [join(importDir, 'fifo')]);
    for (const path of ['/etc', '/root/.ssh', join(importDir, 'etc-link'), join(importDir, '..')]) {
      await expectError(await build('alpha', { name: 'imp', from: { oci: { path } } }), 400, 'invalid_argument', /inside the import directory/);
    }
    await expectError(await build('alpha', { name: 'imp', from: { oci: { path: join(importDir, 'fifo') } } }), 400, 'invalid_argument', /neither a regular file nor a directory/);
  });

  test('a mirror on loopback, file:// or off the allow list is refused before anything connects', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    let connections = 0;
    const listener: Server = createServer((c) => { connections++; c.destroy(); });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as { port: number }).port;
    try {
      const cases: [string, RegExp][] = [
        [`http://127.0.0.1:${port}/debian`, /loopback, link-local or private/],
        [`http://localhost:${port}/debian`, /not on the mirror allow list/],
        ['file:///etc/apt', /http:\/\/ or https:\/\//],
        ['http://mirror.example.invalid/debian', /not on the mirror allow list/],
      ];
      for (const [mirror, why] of cases) {
        await expectError(await build('alpha', { name: 'ssrf', from: { debian: { mirror } } }), 400, 'invalid_argument', why);
      }
      assert.equal(connections, 0, 'the build connected to the loopback listener');
    } finally {
      listener.close();
    }
  });

  test('a run step that reaches for the network fails with its output and says what to do instead; other failures do not say so', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    // The build's network namespace has loopback only, so nothing leaves it; .invalid names resolve nowhere (RFC 6761).
    const offline = await build('alpha', { name: 'offline', from: { template: 'base' }, run: ['curl -sS --max-time 5 http://deb.agentbox.invalid/'] });
    await expectError(offline, 400, 'invalid_argument', /run step 1 .*failed \(exit 6\); last output:\n.*Could not resolve host.*\n\(run steps have no network: Debian packages go in the `packages`/s);
    const failing = await build('alpha', { name: 'failing', from: { template: 'busybox' }, run: ['echo not-found-here >&2; exit 3'] });
    // The message ends with the step's output: no hint about the network.
    await expectError(failing, 400, 'invalid_argument', /run step 1 .*failed \(exit 3\); last output:\nnot-found-here$/);
  });

  test('a run step that never ends times out, naming the step and the limit to raise', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const started = Date.now();
    const res = await build('alpha', { name: 'hang', from: { template: 'busybox' }, run: ['echo first', 'sleep infinity'] });
    await expectError(res, 504, 'deadline_exceeded', /run step 2 \("sleep infinity"\).*within 8 s.*AGENTBOX_BUILD_STEP_TIMEOUT_S/);
    assert.ok(Date.now() - started < 60_000);
    const listed = (await (await s!.api('/v1/templates', { key: keys.alpha! })).json()).templates as { name: string; state: string }[];
    assert.equal(listed.find((x) => x.name === 'hang')?.state, 'failed');
  });

  test('an uploaded image keeps no device node, and its setuid file is unreachable for host users', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    // A docker-save archive with a char device (/dev/mem's numbers) and a setuid-root shell.
    const layout = join(scratch, 'layout');
    const bundle = join(scratch, 'bundle');
    await runCommand('umoci', ['init', '--layout', layout]);
    await runCommand('umoci', ['new', '--image', `${layout}:v1`]);
    await runCommand('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    const busybox = await s!.created.templates.ensure('busybox');
    await cp(busybox.layers[0]!, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    await runCommand('mknod', [join(bundle, 'rootfs', 'mem'), 'c', '1', '1']);
    await cp('/bin/busybox', join(bundle, 'rootfs', 'suid-sh'));
    await chmod(join(bundle, 'rootfs', 'suid-sh'), 0o4755);
    await runCommand('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
    const archive = join(scratch, 'image.tar');
    await runCommand('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:evil:v1`]);

    const res = await s!.api('/v1/templates/evil/oci?ref=evil:v1', { method: 'POST', key: keys.alpha!, body: await readFile(archive) });
    assert.equal(res.status, 201, await res.clone().text());
    assert.deepEqual(await res.json(), { name: 'evil', visibility: 'private', state: 'ready' });
    const info = s!.created.templates.find(`evil@${tenantIds.alpha}`);
    assert.ok(info, 'stored under the tenant\'s own key');
    const layer = info.layers[0]!;
    assert.equal(existsSync(join(layer, 'mem')), false, 'the device node was unpacked onto the host');
    assert.ok(((await lstat(join(layer, 'suid-sh'))).mode & 0o4000) !== 0, 'the image keeps its setuid file inside');
    // Every directory above the layer is root-only, so no host user reaches the setuid file.
    const layersRoot = join(layer, '..', '..');
    assert.equal((await stat(layersRoot)).mode & 0o777, 0o700);
    const asNobody = await runCommand('runuser', ['-u', 'nobody', '--', join(layer, 'suid-sh'), 'id', '-u'])
      .then(() => 'ran', (e: Error) => e.message);
    assert.match(asNobody, /Permission denied/);
    assert.equal(await inSandbox('alpha', 'evil', 'test -e /mem && echo present || echo absent'), 'absent');
  });
});

describe('M4: host file permissions', () => {
  test('state.db and its WAL are 0600 in a 0700 home, even when the home was 0755', async () => {
    const home = join(scratch, 'old-home');
    await mkdir(home, { mode: 0o755 });
    await chmod(home, 0o755);
    const db = openDb(join(home, 'state.db'));
    db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run('t1', 't1', 0);
    try {
      assert.equal((await stat(home)).mode & 0o777, 0o700);
      for (const f of ['state.db', 'state.db-wal']) assert.equal((await stat(join(home, f))).mode & 0o777, 0o600, f);
    } finally {
      db.close();
    }
  });

  test('engine dirs are 0700 and a sandbox\'s host-side overlay is nosuid,nodev', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    for (const d of [s!.home, s!.created.home, join(s!.created.home, 'sandboxes'), join(s!.created.home, 'snapshots'), join(s!.created.home, 'templates')]) {
      assert.equal((await stat(d)).mode & 0o777, 0o700, d);
    }
    assert.equal((await stat(join(s!.home, 'state.db'))).mode & 0o777, 0o600);
    const res = await s!.api('/v1/sandboxes', { method: 'POST', key: keys.alpha!, json: { template: 'busybox' } });
    assert.equal(res.status, 201, await res.clone().text());
    const id = (await res.json()).id as string;
    try {
      const rootfs = join(s!.created.home, 'sandboxes', id, 'rootfs');
      const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === rootfs);
      assert.ok(line, `no mount at ${rootfs}`);
      const opts = line.split(' ')[5]!.split(',');
      assert.ok(opts.includes('nosuid') && opts.includes('nodev'), line);
    } finally {
      await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE', key: keys.alpha! });
    }
  });
});
