// E2B Volumes scenarios (issue 15), run by test/e2b/volumes.test.ts in a child process against one
// installed npm `e2b` (unchanged), configured only by the SDK's environment variables
// (E2B_API_KEY, E2B_API_URL, E2B_SANDBOX_URL, E2B_VOLUME_API_URL). OTHER_TENANT_KEY is another
// tenant's key; QUOTA_TENANT_KEY a tenant whose policy gives volumes 64 MiB. Prints one JSON line
// per scenario: {name, ok, error?, ms}.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const req = createRequire(join(process.env.E2B_SDK_DIR, 'package.json'));
const e2b = await import(pathToFileURL(req.resolve('e2b')).href);
const { Sandbox, Volume } = e2b;
const other = { apiKey: process.env.OTHER_TENANT_KEY };
const quotaKey = { apiKey: process.env.QUOTA_TENANT_KEY };
const check = (cond, msg) => { if (!cond) throw new Error(msg); };
const eq = (a, b, msg) => check(JSON.stringify(a) === JSON.stringify(b), `${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
/** The error a promise rejects with (fails when it resolves). */
async function rejection(p, what) {
  try { await p; } catch (err) { return err; }
  throw new Error(`${what} was accepted`);
}
const run = async (sbx, cmd, opts) => sbx.commands.run(cmd, opts).catch((e) => e);

const ctx = { name: `shared-${process.pid}-${Date.now()}` };
const scenarios = [
  ['create, list, get and connect', async () => {
    ctx.vol = await Volume.create(ctx.name);
    check(/^[0-9a-f-]{36}$/.test(ctx.vol.volumeId), `volume id ${ctx.vol.volumeId}`);
    eq(ctx.vol.name, ctx.name, 'name');
    check((await Volume.list()).some((v) => v.volumeId === ctx.vol.volumeId && v.name === ctx.name), 'listed');
    const info = await Volume.getInfo(ctx.vol.volumeId);
    eq([info.name, info.token], [ctx.name, ctx.vol.token], 'getInfo: name and the same content token');
    eq((await Volume.connect(ctx.vol.volumeId)).token, ctx.vol.token, 'connect');
    const dup = await rejection(Volume.create(ctx.name), 'a second volume of the same name');
    check(/already exists/.test(dup.message), dup.message);
  }],
  ['the content API', async () => {
    const v = ctx.vol;
    const w = await v.writeFile('/seed/hello.txt', 'from the API');
    eq([w.path, w.type, w.size], ['/seed/hello.txt', 'file', 12], 'written entry');
    eq(await v.readFile('/seed/hello.txt'), 'from the API', 'read back');
    eq((await v.makeDir('/made/deep', { force: true })).type, 'directory', 'makeDir with parents');
    eq((await v.list('/', { depth: 2 })).map((e) => e.path).sort(), ['/made', '/made/deep', '/seed', '/seed/hello.txt'], 'list depth 2');
    eq(await v.exists('/nope'), false, 'exists of a missing path');
    check((await rejection(v.readFile('/nope'), 'reading a missing file')) instanceof e2b.VolumePathNotFoundError, 'VolumePathNotFoundError');
    eq((await v.updateMetadata('/seed/hello.txt', { mode: 0o600 })).mode, 0o600, 'updateMetadata');
    await v.remove('/made');
    eq(await v.exists('/made'), false, 'removed');
  }],
  ['two sandboxes mount it and see each other\'s writes', async () => {
    ctx.a = await Sandbox.create('base', { volumeMounts: { '/mnt/shared': ctx.vol }, timeoutMs: 300_000 });
    ctx.b = await Sandbox.create('base', { volumeMounts: { '/home/user/data': ctx.name }, timeoutMs: 300_000 });
    const wrote = await run(ctx.a, 'echo from-a > /mnt/shared/a.txt && stat -c %U /mnt/shared/a.txt');
    eq([wrote.exitCode, wrote.stdout], [0, 'user\n'], 'the sandbox user writes to the volume');
    eq((await run(ctx.b, 'cat /home/user/data/a.txt /home/user/data/seed/hello.txt')).stdout, 'from-a\nfrom the API', 'B reads A\'s file and the API\'s');
    await run(ctx.b, 'echo from-b > /home/user/data/b.txt');
    eq((await run(ctx.a, 'cat /mnt/shared/b.txt')).stdout, 'from-b\n', 'A reads B\'s file');
    eq(await ctx.vol.readFile('/b.txt'), 'from-b\n', 'the content API reads what a sandbox wrote');
    eq((await Sandbox.getInfo(ctx.a.sandboxId)).volumeMounts, [{ name: ctx.name, path: '/mnt/shared' }], 'getInfo names the mount');
  }],
  ['a mounted volume cannot be deleted, snapshotted or forked', async () => {
    const err = await rejection(Volume.destroy(ctx.vol.volumeId), 'deleting a mounted volume');
    check(/mounted by a sandbox/.test(err.message), err.message);
    const snap = await rejection(ctx.a.createSnapshot(), 'a snapshot of a sandbox with a volume');
    check(/volumes/.test(snap.message), snap.message);
  }],
  ['the files survive both sandboxes\' kill', async () => {
    await ctx.a.kill();
    await ctx.b.kill();
    ctx.c = await Sandbox.create('base', { volumeMounts: { '/srv/vol': ctx.vol }, timeoutMs: 300_000 });
    eq((await run(ctx.c, 'cat /srv/vol/a.txt /srv/vol/b.txt')).stdout, 'from-a\nfrom-b\n', 'a third sandbox reads them');
  }],
  ['pause and resume keep the mount; files changed meanwhile are seen', async () => {
    await run(ctx.c, 'echo before > /srv/vol/held.txt');
    await ctx.c.pause();
    await ctx.vol.writeFile('/held.txt', 'changed while paused\n');
    await ctx.vol.writeFile('/new.txt', 'new\n');
    await Sandbox.connect(ctx.c.sandboxId);
    eq((await run(ctx.c, 'cat /srv/vol/held.txt /srv/vol/new.txt')).stdout, 'changed while paused\nnew\n', 'after resume');
    eq((await run(ctx.c, 'echo after > /srv/vol/after.txt && cat /srv/vol/after.txt')).stdout, 'after\n', 'writable after resume');
  }],
  ['bad names and mount paths are refused', async () => {
    check(/Invalid volume name/.test((await rejection(Volume.create('no spaces allowed'), 'a bad name')).message), 'bad name');
    check(/Invalid volume name/.test((await rejection(Volume.create('../etc'), 'a traversing name')).message), 'traversing name');
    for (const path of ['/', '/proc', '/sys/fs', '/dev', '/opt/agentbox', '/opt', '/etc', 'relative', '/mnt/../etc', '/mnt/./x']) {
      const err = await rejection(Sandbox.create('base', { volumeMounts: { [path]: ctx.vol } }), `a mount at ${path}`);
      check(/invalid mounts/.test(err.message), `${path}: ${err.message}`);
    }
    const missing = await rejection(Sandbox.create('base', { volumeMounts: { '/x': 'no-such-volume' } }), 'an unknown volume');
    check(/volume 'no-such-volume' not found/.test(missing.message), missing.message);
  }],
  ['another tenant sees nothing', async () => {
    check((await rejection(Volume.getInfo(ctx.vol.volumeId, other), 'another tenant\'s get')) instanceof e2b.VolumeNotFoundError, 'VolumeNotFoundError');
    check(!(await Volume.list(other)).some((v) => v.volumeId === ctx.vol.volumeId), 'not listed');
    eq(await Volume.destroy(ctx.vol.volumeId, other), false, 'another tenant\'s delete is a 404');
    const mount = await rejection(Sandbox.create('base', { ...other, volumeMounts: { '/x': ctx.name } }), 'mounting another tenant\'s volume');
    check(/not found/.test(mount.message), mount.message);
    const forged = new Volume(ctx.vol.volumeId, ctx.name, 'not-the-token');
    check(!(await forged.exists('/a.txt').then(() => true, () => false)), 'a wrong content token reads nothing');
  }],
  ['a full volume is ENOSPC inside the sandbox', async () => {
    const small = await Volume.create(`quota-${process.pid}`, quotaKey);
    const s = await Sandbox.create('base', { ...quotaKey, volumeMounts: { '/mnt/q': small }, timeoutMs: 300_000 });
    try {
      const r = await run(s, 'dd if=/dev/zero of=/mnt/q/big bs=1M count=200');
      check(r.exitCode !== 0 && /No space left on device/.test(r.stderr), `dd past the quota: ${r.exitCode} ${r.stderr}`);
      const df = await run(s, 'df -m /mnt/q | tail -1');
      check(Number(df.stdout.trim().split(/\s+/)[1]) <= 64, `the volume is 64 MiB: ${df.stdout}`);
    } finally {
      await s.kill();
    }
    eq(await Volume.destroy(small.volumeId, quotaKey), true, 'deleted once unmounted');
  }],
  ['delete once unmounted', async () => {
    await ctx.c.kill();
    eq(await Volume.destroy(ctx.vol.volumeId), true, 'destroy');
    check((await rejection(Volume.getInfo(ctx.vol.volumeId), 'get after delete')) instanceof e2b.VolumeNotFoundError, 'gone');
  }],
];

for (const [name, fn] of scenarios) {
  const t0 = Date.now();
  try {
    if (!ctx.vol && !name.startsWith('create')) throw new Error('no volume (create failed)');
    await fn();
    console.log(JSON.stringify({ name, ok: true, ms: Date.now() - t0 }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, ms: Date.now() - t0, error: String(err?.stack ?? err).slice(0, 2000) }));
  }
}
for (const s of [ctx.a, ctx.b, ctx.c]) if (s) await s.kill().catch(() => undefined);
if (ctx.vol) await Volume.destroy(ctx.vol.volumeId).catch(() => undefined);
