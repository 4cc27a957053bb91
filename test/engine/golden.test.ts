// test-file-guests: typescript native
/**
 * Golden snapshots (src/engine/golden-boot.ts): after the first create of a template boots, a
 * hidden builder is checkpointed, and later creates of the same kind restore it with an
 * identity of their own. Real gVisor checkpoints; whether a sandbox was booted or restored is
 * told by the engine's step report (onPhases: `boot` or `restore`) and, independently, by the
 * kernel's boot_id, which gVisor keeps across a restore.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { parseRecipe } from '../../src/engine/images/recipe.ts';
import type { TemplateInfo } from '../../src/engine/images/template-store.ts';
import { createGuestClient } from '../../src/envd/client.ts';
import { exited, spawnAndReadFirstLine } from '../support/child-process.ts';
import { goldenKeys, untilGoldens as untilGoldensIn } from '../support/golden.ts';
import { waitFor } from '../support/wait.ts';
import { destroyAfter, sh, startTestEngine, type TestEngine } from './fixture.ts';

/** How each sandbox was made: the last of `boot` or `restore` the engine reported for it. */
const madeBy = new Map<string, string>();
const onPhases = (op: string, id: string) => { if (op === 'boot' || op === 'restore') madeBy.set(id, op); };
/** What the engine logged (a snapshot that did not restore, a build that failed): said when a create did not restore. */
const engineLog: string[] = [];
const log = (msg: string, fields?: Record<string, unknown>) => engineLog.push(`${msg} ${JSON.stringify(fields ?? {})}`);
const assertRestored = (id: string, why?: string) => assert.equal(madeBy.get(id), 'restore', [why, 'engine log:', ...engineLog].filter(Boolean).join('\n'));
let t: TestEngine | undefined;
before(async () => {
  t = await startTestEngine('golden', { log, onPhases });
  await t.templates.ensure('busybox');
});
after(() => t?.cleanup());

const engine = () => t!.engine;
const goldenRoot = () => join(t!.home, 'golden');
const goldens = () => goldenKeys(t!.home);
const untilGoldens = (n: number) => untilGoldensIn(t!.home, n);
const bootId = (id: string) => sh(engine(), id, 'cat /proc/sys/kernel/random/boot_id');

describe('golden snapshots', () => {
  it('restores every create after the first from one golden snapshot, each with an identity of its own', async (ctx) => {
    const first = await engine().run({ template: 'busybox' });
    destroyAfter(ctx, engine(), first.id);
    assert.equal(madeBy.get(first.id), 'boot', 'the first create of a kind boots');
    assert.deepEqual(engine().list().map((s) => s.id), [first.id], 'the builder is nobody\'s sandbox and is never listed');
    const [key] = await untilGoldens(1);
    assert.deepEqual(engine().list().map((s) => s.id), [first.id]);

    const a = await engine().run({ template: 'busybox', env: { WHO: 'a' } });
    destroyAfter(ctx, engine(), a.id);
    const b = await engine().run({ template: 'busybox', env: { WHO: 'b' } });
    destroyAfter(ctx, engine(), b.id);
    assertRestored(a.id);
    assertRestored(b.id);
    // Restored from the same memory: both have the builder's boot_id; the booted one its own.
    assert.equal(await bootId(a.id), await bootId(b.id));
    assert.notEqual(await bootId(first.id), await bootId(a.id));

    // Identity: name, address, token, env and randomness are each copy's own.
    for (const [s, who] of [[a, 'a'], [b, 'b']] as const) {
      assert.equal(s.state, 'running');
      assert.equal(await sh(engine(), s.id, 'hostname'), s.id);
      assert.match(await sh(engine(), s.id, 'cat /etc/hosts'), new RegExp(`${s.address.replaceAll('.', '\\.')}\\s+${s.id}`));
      assert.equal(await sh(engine(), s.id, 'echo $WHO'), who);
    }
    assert.equal(new Set([first.address, a.address, b.address]).size, 3);
    assert.equal(new Set([first.guest.accessToken, a.guest.accessToken, b.guest.accessToken]).size, 3);
    const random = (id: string) => sh(engine(), id, 'head -c 16 /dev/urandom | od -An -tx1');
    assert.notEqual(await random(a.id), await random(b.id));

    // The builder waited for V8's memory reducer (src/guest/heap-settle.ts): no copy starts with
    // it pending, which would collect the heap during the copy's first request.
    for (const s of [a, b]) {
      const guest = createGuestClient({ url: s.guest.url, accessToken: s.guest.accessToken });
      try {
        const heap = await guest.heapSettled({ timeoutMs: 0 });
        assert.equal(heap.settled, true, `${s.id}: ${JSON.stringify(heap)}`);
      } finally {
        guest.close();
      }
    }

    // The builder's token, kept with the snapshot for the re-key, opens no copy.
    const builderToken = (JSON.parse(readFileSync(join(goldenRoot(), key!, 'sandbox.json'), 'utf8')) as { accessToken: string }).accessToken;
    const viaBuilder = createGuestClient({ url: a.guest.url, accessToken: builderToken });
    try {
      await assert.rejects(viaBuilder.exec({ cmd: ['true'] }), (e: AgentboxError) => e.code === 'unauthenticated');
    } finally {
      viaBuilder.close();
    }

    // Files are each copy's own, and a copy pauses and resumes like any sandbox.
    await sh(engine(), a.id, 'echo mine > /home/user/f');
    assert.equal(await sh(engine(), b.id, 'cat /home/user/f 2>/dev/null || echo absent'), 'absent');
    await engine().pause(a.id);
    await engine().resume(a.id);
    assert.equal(await sh(engine(), a.id, 'cat /home/user/f; hostname'), `mine\n${a.id}`);
    assert.deepEqual(goldens(), [key], 'one golden snapshot served them all');
  });

  it('discards a golden snapshot that does not restore, boots instead, and makes a new one', async (ctx) => {
    const [key] = await untilGoldens(1);
    const images = join(goldenRoot(), key!, 'images');
    for (const f of readdirSync(images)) writeFileSync(join(images, f), 'not a checkpoint');
    const s = await engine().run({ template: 'busybox' });
    destroyAfter(ctx, engine(), s.id);
    assert.equal(madeBy.get(s.id), 'boot');
    assert.equal(await sh(engine(), s.id, 'hostname'), s.id);
    await waitFor('a new golden snapshot to replace the broken one', () => existsSync(join(images, '..', 'manifest.json')) && readdirSync(images).every((f) => readFileSync(join(images, f)).length > 'not a checkpoint'.length), 120_000, 50);
    const again = await engine().run({ template: 'busybox' });
    destroyAfter(ctx, engine(), again.id);
    assertRestored(again.id);
  });

  it('boots a sandbox with other limits, then gives that kind a golden snapshot of its own', async (ctx) => {
    await untilGoldens(1);
    const limits = { memoryMiB: 384 };
    const s = await engine().run({ template: 'busybox', limits });
    destroyAfter(ctx, engine(), s.id);
    assert.equal(madeBy.get(s.id), 'boot');
    await untilGoldens(2);
    const again = await engine().run({ template: 'busybox', limits });
    destroyAfter(ctx, engine(), again.id);
    assertRestored(again.id);
    assert.equal(engine().get(again.id).limits.memoryMiB, 384);
  });

  it('restores a template whose start command may be snapshotted with that command running, with or without a create\'s env, which that command never sees; boots a template that does not allow it', async (ctx) => {
    const recipe = (name: string, goldenSnapshot?: true) => parseRecipe({
      name,
      from: { template: 'busybox' },
      env: { KIND: 'template' },
      // Every start appends its PID and what it sees of the env: a sandbox that started it again would hold two lines.
      start: { cmd: ['/bin/sh', '-c', 'echo $$ $KIND ${WHO:-none} >> /tmp/starts; exec sleep 100000'], ...(goldenSnapshot ? { goldenSnapshot } : {}) },
      ready: { cmd: ['test', '-s', '/tmp/starts'] },
    });
    await t!.templates.build(recipe('started-once', true));
    await t!.templates.build(recipe('started-each-time'));
    const kinds = goldens().length;

    // The kind's first create boots; its start command gets the template's env, not the create's.
    const first = await engine().run({ template: 'started-once', env: { WHO: 'first' } });
    destroyAfter(ctx, engine(), first.id);
    assert.equal(madeBy.get(first.id), 'boot');
    assert.match(await sh(engine(), first.id, 'cat /tmp/starts'), /^\d+ template none$/);
    assert.equal(await sh(engine(), first.id, 'echo $KIND $WHO'), 'template first');
    await untilGoldens(kinds + 1);

    for (const env of [{}, { WHO: 'copy' }] as Record<string, string>[]) {
      const copy = await engine().run({ template: 'started-once', env });
      destroyAfter(ctx, engine(), copy.id);
      assertRestored(copy.id);
      // The builder's start command, started once and running in the copy; the copy's own identity and env.
      const started = await sh(engine(), copy.id, 'cat /tmp/starts');
      assert.match(started, /^\d+ template none$/, 'one start, the builder\'s');
      const pid = started.split(' ')[0]!;
      assert.equal(await sh(engine(), copy.id, `kill -0 ${pid} && cat /proc/${pid}/cmdline | tr '\\0' ' '`), 'sleep 100000');
      assert.equal(await sh(engine(), copy.id, 'hostname'), copy.id);
      assert.equal(await sh(engine(), copy.id, 'echo $KIND ${WHO:-none}'), `template ${env.WHO ?? 'none'}`);
    }

    // Without the template's word, every create boots, and no golden snapshot is made for it.
    for (let i = 0; i < 2; i++) {
      const s = await engine().run({ template: 'started-each-time' });
      destroyAfter(ctx, engine(), s.id);
      assert.equal(madeBy.get(s.id), 'boot');
    }
    assert.equal(goldens().length, kinds + 1);
  });

  it('restores a template whose ready check alone may be snapshotted without checking it again; boots and checks one that does not allow it', async (ctx) => {
    const recipe = (name: string, goldenSnapshot?: true) => parseRecipe({
      name,
      from: { template: 'busybox' },
      // Every check appends a line: a sandbox checked again would hold two.
      ready: { cmd: ['/bin/sh', '-c', 'echo checked >> /tmp/checks'], ...(goldenSnapshot ? { goldenSnapshot } : {}) },
    });
    await t!.templates.build(recipe('checked-once', true));
    await t!.templates.build(recipe('checked-each-time'));
    const kinds = goldens().length;

    const first = await engine().run({ template: 'checked-once' });
    destroyAfter(ctx, engine(), first.id);
    assert.equal(madeBy.get(first.id), 'boot');
    assert.equal(await sh(engine(), first.id, 'cat /tmp/checks'), 'checked');
    await untilGoldens(kinds + 1);
    const copy = await engine().run({ template: 'checked-once' });
    destroyAfter(ctx, engine(), copy.id);
    assertRestored(copy.id);
    assert.equal(await sh(engine(), copy.id, 'cat /tmp/checks'), 'checked', 'the builder\'s one check');

    for (let i = 0; i < 2; i++) {
      const s = await engine().run({ template: 'checked-each-time' });
      destroyAfter(ctx, engine(), s.id);
      assert.equal(madeBy.get(s.id), 'boot');
      assert.equal(await sh(engine(), s.id, 'cat /tmp/checks'), 'checked');
    }
    assert.equal(goldens().length, kinds + 1);
  });

  it('startOnce checks a start command whose creates boot in a sandbox of its own, removed after, on gVisor and runc; fails when it cannot get ready', async () => {
    const sandboxes = () => readdirSync(join(t!.home, 'sandboxes')).sort();
    const before = sandboxes();
    const keys = goldens();
    // No `start.goldenSnapshot`: its creates boot, so the check cannot go into a golden snapshot.
    const recipe = (name: string, line: string) => parseRecipe({ name, from: { template: 'busybox' }, start: { cmd: ['/bin/sh', '-c', line] }, ready: { cmd: ['test', '-f', '/tmp/ready'] } });
    const ok = await t!.templates.build(recipe('checked-ok', 'touch /tmp/ready; exec sleep 1000'));
    const crash = await t!.templates.build(recipe('checked-crash', 'echo "no such config" >&2; exit 4'));
    for (const runtime of ['gvisor', 'runc'] as const) {
      assert.equal(await engine().startOnce(ok, runtime), false, `${runtime}: no golden snapshot is made`);
      await assert.rejects(engine().startOnce(crash, runtime), (e: AgentboxError) => {
        assert.match(e.message, /^the start command .* exited with code 4 before the ready check .* passed; its last output:\nno such config$/, runtime);
        return true;
      });
      assert.deepEqual(sandboxes(), before, `${runtime}: the checks' sandboxes were removed`);
    }
    assert.deepEqual(goldens(), keys);
    assert.deepEqual(engine().list().filter((s) => s.template.startsWith('checked-')), []);
  });

  it('a build checked by startOnce replaces its template only when the start command gets ready; creates restore the golden snapshot the check made', async (ctx) => {
    // What an E2B build does (src/server/engine-catalog.ts): the check runs before the build is stored.
    const recipe = (line: string) => parseRecipe({
      name: 'rebuilt', from: { template: 'busybox' }, start: { cmd: ['/bin/sh', '-c', line], goldenSnapshot: true }, ready: { cmd: ['test', '-s', '/tmp/version'] },
    });
    const check = { check: async (candidate: TemplateInfo) => { assert.equal(await engine().startOnce(candidate, 'gvisor'), true, 'the check made the golden snapshot'); } };
    const v1 = await t!.templates.build(recipe('echo v1 > /tmp/version; exec sleep 1000'), undefined, check);
    const version = async () => {
      const s = await engine().run({ template: 'rebuilt' });
      destroyAfter(ctx, engine(), s.id);
      assertRestored(s.id, 'a create restores the snapshot the check made');
      return sh(engine(), s.id, 'cat /tmp/version');
    };
    assert.equal(await version(), 'v1');

    // v2's start command fails until a moment on the clock (what it waits for is not there yet),
    // then gets ready: one recipe, so one build id and one kind of golden snapshot for every try.
    const readyAt = Math.ceil(Date.now() / 1000) + 30;
    const v2 = recipe(`[ "$(date +%s)" -ge ${readyAt} ] || { echo "v2 cannot start yet" >&2; exit 3; }; echo v2 > /tmp/version; exec sleep 1000`);
    const keys = goldens();
    // Three times: golden builds give up on a kind after two failures, and neither the check nor
    // the kind's later golden snapshot may count a start command that failed its check.
    for (let i = 0; i < 3; i++) {
      await assert.rejects(t!.templates.build(v2, undefined, check), /exited with code 3 .*\nv2 cannot start yet$/, `try ${i + 1}`);
    }
    assert.ok(Date.now() < readyAt * 1000, 'the failing tries ended before v2 could start');
    assert.equal(t!.templates.get('rebuilt').buildId, v1.buildId, 'the failed build did not replace the template');
    assert.deepEqual(goldens(), keys, 'the failed checks left no golden snapshot');
    assert.equal(await version(), 'v1');

    await new Promise((r) => setTimeout(r, readyAt * 1000 + 1000 - Date.now()));
    await t!.templates.build(v2, undefined, check);
    assert.equal(await version(), 'v2');
  });

  it('snapshots a template without a shell: the builder\'s warm-up is left out, not the snapshot', async (ctx) => {
    // As a distroless image: nothing at /bin/sh, where the warm-up command starts.
    const recipe = parseRecipe({
      name: 'shell-less', from: { template: 'busybox' }, run: ['rm /bin/sh'],
      start: { cmd: ['/bin/busybox', 'sleep', '1000'], goldenSnapshot: true }, ready: { cmd: ['/bin/busybox', 'true'] },
    });
    const check = { check: async (candidate: TemplateInfo) => { assert.equal(await engine().startOnce(candidate, 'gvisor'), true, 'the check made the golden snapshot'); } };
    await t!.templates.build(recipe, undefined, check);
    const s = await engine().run({ template: 'shell-less' });
    destroyAfter(ctx, engine(), s.id);
    assertRestored(s.id);
    const ls = await engine().exec(s.id, { cmd: ['/bin/busybox', 'ls', '/bin/sh'] });
    assert.notEqual(ls.exitCode, 0, 'no shell in the copy either');
    assert.equal((await engine().exec(s.id, { cmd: ['/bin/busybox', 'hostname'] })).stdout.trim(), s.id);
  });

  it('boots every create when turned off', async (ctx) => {
    await t!.cleanup();
    t = await startTestEngine('golden', { goldenSnapshots: 0, log, onPhases });
    for (let i = 0; i < 2; i++) {
      const s = await engine().run({ template: 'busybox' });
      destroyAfter(ctx, engine(), s.id);
      assert.equal(madeBy.get(s.id), 'boot');
    }
    assert.equal(existsSync(goldenRoot()), false);
  });
});

describe('golden snapshot builder and crashes', () => {
  it('a builder a SIGKILLed engine left is removed at start-up, and its snapshot was never published', async () => {
    const home = await mkdtemp(join(tmpdir(), 'agentbox-golden-crash-'));
    const { child, line } = await spawnAndReadFirstLine('the engine process', process.execPath, ['--import', 'tsx', new URL('./golden-builder-child.ts', import.meta.url).pathname, home], { timeoutMs: 300_000 });
    child.kill('SIGKILL');
    await exited(child);
    const { sandbox, builder } = JSON.parse(line) as { sandbox: string; builder: string };
    const after = await startTestEngine('golden-crash', { home });
    try {
      assert.deepEqual(after.engine.list().map((s) => `${s.id}:${s.state}`), [`${sandbox}:running`]);
      assert.equal(existsSync(join(home, 'sandboxes', builder)), false, 'the builder\'s directory is gone');
      assert.equal(await after.drivers.get('gvisor')!.status(builder), undefined, 'the builder\'s container is gone');
      assert.deepEqual(readdirSync(join(home, 'golden')), [], 'no half-made snapshot is kept');
      assert.equal(await sh(after.engine, sandbox, 'hostname'), sandbox);
    } finally {
      await after.cleanup();
    }
  });
});
