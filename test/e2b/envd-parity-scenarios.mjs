// The envd 0.6.x scenarios (issue 15, groups 1, 3 and 6), run by envd-parity.test.ts in a child
// process against one installed version of the npm `e2b` SDK, unchanged, configured only by its
// own environment variables. E2B_SCENARIOS (names separated by `|`) picks the scenarios a version
// has the API for. Prints one JSON line per scenario: {name, ok, error?, ms}.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const req = createRequire(join(process.env.E2B_SDK_DIR, 'package.json'));
const { Sandbox } = await import(pathToFileURL(req.resolve('e2b')).href);
const only = process.env.E2B_SCENARIOS ? new Set(process.env.E2B_SCENARIOS.split('|')) : undefined;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const check = (cond, msg) => { if (!cond) throw new Error(msg); };
const same = (a, b, msg) => check(JSON.stringify(a) === JSON.stringify(b), `${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);

async function poll(fn, what, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ctx = {};
const scenarios = [
  ['create', async () => {
    ctx.sbx = await Sandbox.create('base', { timeoutMs: 300_000 });
  }],
  ['write with metadata; getInfo, list and rename return it; an overwrite replaces it', async () => {
    const f = ctx.sbx.files;
    const metadata = { author: 'mish', purpose: 'upload' };
    same((await f.write('/home/user/meta/a.txt', 'multipart', { metadata })).metadata, metadata, 'write (multipart) answer');
    same((await f.write('/home/user/meta/b.txt', 'octet', { metadata, useOctetStream: true })).metadata, metadata, 'write (octet-stream) answer');
    same((await f.getInfo('/home/user/meta/a.txt')).metadata, metadata, 'getInfo');
    same((await f.list('/home/user/meta')).map((e) => [e.name, e.metadata]), [['a.txt', metadata], ['b.txt', metadata]], 'list');
    same((await f.rename('/home/user/meta/b.txt', '/home/user/meta/c.txt')).metadata, metadata, 'rename');
    const infos = await f.writeFiles([{ path: '/home/user/meta/d.txt', data: 'd' }, { path: '/home/user/meta/e.txt', data: 'e' }], { metadata: { source: 'suite' } });
    same(infos.map((i) => i.metadata), [{ source: 'suite' }, { source: 'suite' }], 'writeFiles answer');
    same((await f.write('/home/user/meta/a.txt', 'again')).metadata, undefined, 'overwrite without metadata');
    same((await f.getInfo('/home/user/meta/a.txt')).metadata, undefined, 'getInfo after the overwrite');
    // Set inside the sandbox by another tool, as E2B's own test does with setfattr.
    await ctx.sbx.commands.run(`python3 -c 'import os; os.setxattr("/home/user/meta/d.txt", "user.e2b.tool", b"py")'`);
    same((await f.getInfo('/home/user/meta/d.txt')).metadata, { source: 'suite', tool: 'py' }, 'getInfo of an xattr set in the sandbox');
  }],
  ['watchDir with includeEntry: events carry the entry and its metadata, a removal none', async () => {
    const f = ctx.sbx.files;
    await f.makeDir('/home/user/watched');
    const events = [];
    const handle = await f.watchDir('/home/user/watched', (e) => events.push(e), { includeEntry: true, timeoutMs: 0 });
    try {
      await f.write('/home/user/watched/w.txt', 'watched', { metadata: { tag: 'seen' } });
      // The entry is read when the event is handled: the one after the metadata was set has it.
      const ev = await poll(() => events.find((e) => e.name === 'w.txt' && e.entry?.metadata?.tag === 'seen'), 'an event whose entry has the metadata');
      same([ev.entry.name, ev.entry.type, ev.entry.path], ['w.txt', 'file', '/home/user/watched/w.txt'], 'event entry');
      await f.remove('/home/user/watched/w.txt');
      const removed = await poll(() => events.find((e) => e.name === 'w.txt' && e.type === 'remove'), 'the remove event');
      same(removed.entry, undefined, 'entry of a removal');
    } finally {
      await handle.stop();
    }
  }],
  ['watchDir accepts allowNetworkMounts', async () => {
    const events = [];
    const handle = await ctx.sbx.files.watchDir('/home/user', (e) => events.push(e), { allowNetworkMounts: true, timeoutMs: 0 });
    try {
      await ctx.sbx.files.write('/home/user/net.txt', 'x');
      await poll(() => events.some((e) => e.name === 'net.txt'), 'an event');
    } finally {
      await handle.stop();
    }
  }],
  ['remove of a missing path is a no-op', async () => {
    await ctx.sbx.files.remove('/home/user/never-was.txt');
    await ctx.sbx.files.remove('/home/user/no/such/dir');
    check(!(await ctx.sbx.files.exists('/home/user/never-was.txt')), 'still missing');
  }],
  ["getInfo and list of a symlink: the target's type and the resolved target", async () => {
    const f = ctx.sbx.files;
    await f.write('/home/user/links/real.txt', 'real');
    await f.makeDir('/home/user/links/real-dir');
    const r = await ctx.sbx.commands.run('cd /home/user/links && ln -s real.txt to-file && ln -s to-file chain && ln -s /home/user/links/real-dir to-dir');
    same(r.exitCode, 0, 'ln');
    for (const name of ['to-file', 'chain']) {
      const info = await f.getInfo(`/home/user/links/${name}`);
      same([info.type, info.symlinkTarget, info.path], ['file', '/home/user/links/real.txt', `/home/user/links/${name}`], `getInfo ${name}`);
    }
    const dir = await f.getInfo('/home/user/links/to-dir');
    same([dir.type, dir.symlinkTarget], ['dir', '/home/user/links/real-dir'], 'getInfo to-dir');
    const listed = (await f.list('/home/user/links')).map((e) => [e.name, e.type, e.symlinkTarget ?? null]);
    same(listed, [['chain', 'file', '/home/user/links/real.txt'], ['real-dir', 'dir', null], ['real.txt', 'file', null], ['to-dir', 'dir', '/home/user/links/real-dir'], ['to-file', 'file', '/home/user/links/real.txt']], 'list');
  }],
];

for (const [name, run] of scenarios) {
  if (only && !only.has(name) && name !== 'create') continue;
  const t0 = Date.now();
  try {
    if (!ctx.sbx && name !== 'create') throw new Error('no sandbox (create failed)');
    await run();
    console.log(JSON.stringify({ name, ok: true, ms: Date.now() - t0 }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, ms: Date.now() - t0, error: String(err?.stack ?? err).slice(0, 2000) }));
  }
}
if (ctx.sbx) await Sandbox.kill(ctx.sbx.sandboxId).catch(() => undefined);
