// The E2B conformance scenarios, run by test/e2b/conformance.test.ts in a child process against
// one installed version of the npm `e2b` SDK (unchanged). The connection comes from the SDK's own
// environment variables (E2B_API_KEY, E2B_API_URL/E2B_SANDBOX_URL or E2B_DOMAIN). Prints one JSON
// line per scenario: {name, ok, error?, ms, skip?}. Written for every 2.x API (2.0.1 … latest); a
// scenario for a newer API reports a skip saying `<feature> arrived in SDK <major>.<minor>`, which
// conformance.test.ts holds against the version under test.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { atLeast, check, eq, listAll as listAllOf, poll, sleep } from './scenario-kit.mjs';

const sdkDir = process.env.E2B_SDK_DIR;
const template = process.env.E2B_TEMPLATE ?? 'base';
// E2B_SCENARIOS: the scenario names to run, separated by `|` (names contain commas).
const only = process.env.E2B_SCENARIOS ? new Set(process.env.E2B_SCENARIOS.split('|')) : undefined;
const req = createRequire(join(sdkDir, 'package.json'));
const { Sandbox } = await import(pathToFileURL(req.resolve('e2b')).href);

const listAll = (query) => listAllOf(Sandbox, query);

const ctx = {};
const scenarios = [
  ['create', async () => {
    ctx.tag = `run${Date.now()}`;
    ctx.sbx = await Sandbox.create(template, { metadata: { suite: 'e2b', tag: ctx.tag }, envs: { FROM_CREATE: 'yes' }, timeoutMs: 300_000 });
    check(/^[a-z0-9]{20}$/.test(ctx.sbx.sandboxId), `sandbox id ${ctx.sbx.sandboxId}`);
  }],
  ['commands.run with streaming callbacks', async () => {
    const out = [];
    const err = [];
    const r = await ctx.sbx.commands.run('echo $FROM_CREATE; echo a; sleep 0.3; echo b; echo e >&2', { onStdout: (d) => out.push(d), onStderr: (d) => err.push(d) });
    eq(r.exitCode, 0, 'exit code');
    eq(r.stdout, 'yes\na\nb\n', 'stdout');
    eq(out.join(''), 'yes\na\nb\n', 'streamed stdout');
    eq(err.join(''), 'e\n', 'streamed stderr');
    const failed = await ctx.sbx.commands.run('exit 3').catch((e) => e);
    eq(failed.exitCode, 3, 'exit error code');
    eq((await ctx.sbx.commands.run('whoami')).stdout.trim(), 'user', "the SDK's default user");
    eq((await ctx.sbx.commands.run('whoami', { user: 'root' })).stdout.trim(), 'root', 'user: root');
  }],
  ['background command, connect by pid, kill', async () => {
    const h = await ctx.sbx.commands.run('for i in 1 2 3 4 5 6 7 8 9 10; do echo tick$i; sleep 0.2; done; sleep 60', { background: true, timeoutMs: 0 });
    check(h.pid > 0, 'pid');
    const seen = [];
    const again = await ctx.sbx.commands.connect(h.pid, { onStdout: (d) => seen.push(d), timeoutMs: 0 });
    await poll(() => seen.join('').includes('tick3'), 'output through connect');
    const list = await ctx.sbx.commands.list();
    check(list.some((p) => p.pid === h.pid), 'listed by pid');
    eq(await ctx.sbx.commands.kill(h.pid), true, 'kill');
    const end = await again.wait().catch((e) => e);
    check(end && end.exitCode !== 0, 'killed command ends with an error');
    eq(await ctx.sbx.commands.kill(h.pid), false, 'second kill');
  }],
  ['pty', async () => {
    let screen = '';
    const t = await ctx.sbx.pty.create({ cols: 90, rows: 25, onData: (d) => { screen += Buffer.from(d).toString(); }, timeoutMs: 30_000 });
    await ctx.sbx.pty.sendInput(t.pid, new TextEncoder().encode('stty size; exit\n'));
    await t.wait();
    check(/25 90/.test(screen), `pty screen: ${JSON.stringify(screen.slice(-200))}`);
  }],
  ['files write/read/list/exists/remove/watch', async () => {
    const f = ctx.sbx.files;
    await f.makeDir('/home/user/w');
    const events = [];
    const watcher = await f.watchDir('/home/user/w', (e) => events.push(e), { timeoutMs: 0 });
    await f.write('/home/user/w/a.txt', 'hello e2b');
    eq(await f.read('/home/user/w/a.txt'), 'hello e2b', 'read');
    const entries = await f.list('/home/user/w');
    check(entries.some((e) => e.name === 'a.txt' && e.type === 'file'), `list: ${JSON.stringify(entries)}`);
    eq(await f.exists('/home/user/w/a.txt'), true, 'exists');
    await f.remove('/home/user/w/a.txt');
    eq(await f.exists('/home/user/w/a.txt'), false, 'exists after remove');
    await poll(() => events.some((e) => e.name === 'a.txt' && (e.type === 'write' || e.type === 'create')), 'a watch event');
    await watcher.stop();
  }],
  ['upload and download 5 MiB', async () => {
    const data = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    await ctx.sbx.files.write('/home/user/big.bin', data.buffer);
    const back = await ctx.sbx.files.read('/home/user/big.bin', { format: 'bytes' });
    eq(back.length, data.length, 'size');
    check(Buffer.from(back).equals(Buffer.from(data)), 'content differs');
    eq((await ctx.sbx.commands.run('stat -c %s /home/user/big.bin')).stdout.trim(), String(data.length), 'size inside');
  }],
  ['metadata list filters', async () => {
    const mine = await listAll({ metadata: { tag: ctx.tag } });
    eq(mine.length, 1, 'sandboxes with my tag');
    eq(mine[0].sandboxId, ctx.sbx.sandboxId, 'listed id');
    eq(mine[0].metadata.suite, 'e2b', 'listed metadata');
    eq((await listAll({ metadata: { tag: 'no-such-tag' } })).length, 0, 'other tag');
  }],
  ['getInfo and setTimeout', async () => {
    const info = await ctx.sbx.getInfo();
    eq(info.sandboxId, ctx.sbx.sandboxId, 'id');
    eq(info.templateId, template, 'template');
    eq(info.metadata.tag, ctx.tag, 'metadata');
    await ctx.sbx.setTimeout(120_000);
    const end = new Date((await ctx.sbx.getInfo()).endAt).getTime();
    check(Math.abs(end - (Date.now() + 120_000)) < 15_000, `endAt ${new Date(end).toISOString()} is not ~2 min away`);
    await ctx.sbx.setTimeout(300_000);
  }],
  ['snapshots, metrics and network update', async () => {
    // Newer APIs: createSnapshot ≥2.13, updateNetwork ≥2.25 (older SDKs lack them).
    if (!ctx.sbx.createSnapshot) return 'skip: createSnapshot arrived in SDK 2.13';
    await ctx.sbx.files.write('/home/user/snap.txt', 'kept');
    const snap = await ctx.sbx.createSnapshot();
    check(typeof snap.snapshotId === 'string' && snap.snapshotId.length > 0, `snapshot ${JSON.stringify(snap)}`);
    const listed = await ctx.sbx.listSnapshots().nextItems();
    check(listed.some((x) => x.snapshotId === snap.snapshotId), `listed ${JSON.stringify(listed)}`);
    const copy = await Sandbox.create(snap.snapshotId, { timeoutMs: 120_000 });
    eq(await copy.files.read('/home/user/snap.txt'), 'kept', 'file in the sandbox made from the snapshot');
    await copy.kill();
    eq(await Sandbox.deleteSnapshot(snap.snapshotId), true, 'deleteSnapshot');
    eq(await Sandbox.deleteSnapshot(snap.snapshotId), false, 'deleteSnapshot again');
    const metrics = await ctx.sbx.getMetrics();
    check(metrics.length >= 1 && metrics[0].memUsed > 0, `metrics ${JSON.stringify(metrics)}`);
    await ctx.sbx.updateNetwork({ denyOut: ['0.0.0.0/0'], allowOut: ['1.1.1.1'] });
    await ctx.sbx.updateNetwork({});
  }],
  ['fork', async () => {
    if (!ctx.sbx.fork) return 'skip: fork arrived in SDK 2.35';
    await ctx.sbx.files.write('/home/user/fork.txt', 'kept');
    const [forked] = await ctx.sbx.fork({ count: 1, timeoutMs: 120_000 });
    check(!(forked instanceof Error), `fork: ${forked}`);
    try {
      eq(await forked.files.read('/home/user/fork.txt'), 'kept', 'file in the fork');
    } finally {
      await forked.kill();
    }
  }],
  ['pause then connect: a running process keeps counting', async () => {
    await ctx.sbx.commands.run('i=0; while true; do echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; i=$((i+1)); sleep 0.1; done', { background: true, timeoutMs: 0 });
    await poll(async () => Number((await ctx.sbx.files.read('/tmp/count').catch(() => '0')).trim()) > 3, 'the counter');
    const pause = ctx.sbx.pause ? ctx.sbx.pause.bind(ctx.sbx) : ctx.sbx.betaPause.bind(ctx.sbx);
    await pause();
    eq((await ctx.sbx.getInfo()).state, 'paused', 'state after pause');
    const before = Number((await Sandbox.connect(ctx.sbx.sandboxId).then(async (s) => { ctx.sbx = s; return s.files.read('/tmp/count'); })).trim());
    eq((await ctx.sbx.getInfo()).state, 'running', 'state after connect');
    await sleep(800);
    const afterwards = Number((await ctx.sbx.files.read('/tmp/count')).trim());
    check(afterwards > before, `counter went from ${before} to ${afterwards}`);
  }],
  ['auto-resume: traffic to a paused sandbox resumes it', async () => {
    if (!atLeast(2, 14)) return 'skip: `lifecycle` (autoResume) arrived in SDK 2.14';
    const sbx = await Sandbox.create(template, { lifecycle: { onTimeout: 'pause', autoResume: true }, timeoutMs: 120_000 });
    try {
      await sbx.files.write('/home/user/auto.txt', 'still here');
      await sbx.pause();
      eq((await sbx.getInfo()).state, 'paused', 'paused');
      eq((await sbx.commands.run('cat /home/user/auto.txt')).stdout, 'still here', 'command on the auto-resumed sandbox');
      eq((await sbx.getInfo()).state, 'running', 'running again');
    } finally {
      await sbx.kill();
    }
  }],
  ['kill, and kill of an unknown id is false', async () => {
    eq(await Sandbox.kill(ctx.sbx.sandboxId), true, 'kill');
    eq(await Sandbox.kill(ctx.sbx.sandboxId), false, 'kill again');
    eq(await Sandbox.kill('zzzzzzzzzzzzzzzzzzzz'), false, 'kill unknown');
  }],
];

for (const [name, run] of scenarios) {
  if (only && !only.has(name)) continue;
  const t0 = Date.now();
  try {
    if (!ctx.sbx && name !== 'create') throw new Error('no sandbox (create failed)');
    const outcome = await run();
    const skip = typeof outcome === 'string' && outcome.startsWith('skip: ') ? outcome.slice(6) : undefined;
    console.log(JSON.stringify({ name, ok: true, ms: Date.now() - t0, ...(skip ? { skip } : {}) }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, ms: Date.now() - t0, error: String(err?.stack ?? err).slice(0, 2000) }));
  }
}
if (ctx.sbx) await Sandbox.kill(ctx.sbx.sandboxId).catch(() => undefined);
