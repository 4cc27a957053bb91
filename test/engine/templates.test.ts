/** Template builds (steps run inside a sandbox) and OCI image import; recipe parsing is src/engine/images/recipe.test.ts. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentboxError } from '../../src/api/errors.ts';
import { runCommand } from '../../src/engine/command.ts';
import { parseRecipe } from '../../src/engine/images/recipe.ts';
import { destroyAfter, sh, startTestEngine, type TestEngine } from './fixture.ts';

describe('builds and imports', () => {
  let t: TestEngine;
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'agentbox-oci-'));
    // Imports come only from the admin's import directory: the scratch dir here.
    t = await startTestEngine('templates', { templates: { importDir: scratch } });
  });
  after(async () => {
    await t.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  it('builds a template whose files and run steps execute inside a sandbox, with progress', async () => {
    const events: string[] = [];
    const recipe = parseRecipe({
      name: 'tools',
      from: { template: 'busybox' },
      files: [{ path: '/etc/motd', content: 'hello from a template\n' }],
      run: ['echo built-by-step > /etc/step', 'hostname > /etc/build-host', 'echo builder:x:1234:1234::/home/builder:/bin/sh >> /etc/passwd'],
      env: { TOOL_ENV: 'yes' },
      start: { cmd: ['/bin/sh', '-c', 'echo started > /tmp/started; sleep 1000'] },
      ready: { cmd: ['test', '-f', '/tmp/started'] },
    });
    const info = await t.templates.build(recipe, (e) => events.push(`${e.phase}: ${e.message}`));
    assert.equal(info.layers.length, 2);
    assert.ok(events.some((e) => e.startsWith('steps:')));
    assert.ok(events.at(-1)!.startsWith('done:'));
    // Steps ran in a sandbox (hostname 'build'), not on the host.
    const s = await t.engine.run({ template: 'tools' });
    assert.equal(await sh(t.engine, s.id, 'cat /etc/motd /etc/step /etc/build-host'), 'hello from a template\nbuilt-by-step\nbuild');
    assert.equal(await sh(t.engine, s.id, 'id -u builder; echo $TOOL_ENV; cat /tmp/started'), '1234\nyes\nstarted');
    await t.engine.destroy(s.id);
    // An unchanged recipe is not rebuilt.
    const again = await t.templates.build(recipe);
    assert.equal(again.buildId, info.buildId);
    assert.equal(again.builtAt, info.builtAt);
  });

  it('fails a build whose step fails, with the step output in the error', async () => {
    const recipe = parseRecipe({ name: 'broken', from: { template: 'busybox' }, run: ['echo about-to-fail; exit 7'] });
    await assert.rejects(t.templates.build(recipe), (e: AgentboxError) => /about-to-fail/.test(e.message));
    assert.equal(t.templates.find('broken'), undefined);
  });

  describe('a start command that cannot make its sandbox ready', () => {
    // A ready timeout far beyond the test's own: only the start command's end can fail these in time.
    const LONG = 600_000;
    const create = async (name: string, start: string[], ready: string[], timeoutMs = LONG) => {
      await t.templates.build(parseRecipe({ name, from: { template: 'busybox' }, start: { cmd: start }, ready: { cmd: ready, timeoutMs } }));
      return t.engine.run({ template: name });
    };
    const gone = (name: string) => assert.deepEqual(t.engine.list().filter((s) => s.template === name), [], 'the failed sandbox was removed');

    it('fails the create once it exits non-zero, with its last output', { timeout: 120_000 }, async () => {
      const script = 'for i in $(seq 1 30); do echo "line $i"; done; printf "Error: no config file" >&2; exit 3';
      await assert.rejects(create('exits-3', ['/bin/sh', '-c', script], ['test', '-f', '/tmp/never']), (e: AgentboxError) => {
        assert.equal(e.code, 'unavailable');
        assert.match(e.message, /^the start command \["\/bin\/sh","-c",.*\] exited with code 3 before the ready check \["test","-f","\/tmp\/never"\] passed; its last output:\n/);
        // The last 20 lines, the last one without its newline included; not the first ones.
        assert.match(e.message, /line 30\nError: no config file$/);
        assert.doesNotMatch(e.message, /line 11\n/);
        assert.match(e.message, /line 12\n/);
        return true;
      });
      gone('exits-3');
    });

    it('fails the create when it cannot be launched or is killed', { timeout: 120_000 }, async () => {
      await assert.rejects(create('no-binary', ['/no/such/program'], ['test', '-f', '/tmp/never']), /start command \["\/no\/such\/program"\] could not be started \(cannot start '\/no\/such\/program': .*(ENOENT|No such file or directory)/);
      gone('no-binary');
      await assert.rejects(create('killed', ['/bin/sh', '-c', 'kill -KILL $$'], ['test', '-f', '/tmp/never']), /start command .* was ended by signal: killed before the ready check .* passed; it wrote no output$/);
      gone('killed');
    });

    it('waits for the ready check when it exits 0, as a daemonizing command does', { timeout: 120_000 }, async (ctx) => {
      const s = await create('daemonizes', ['/bin/sh', '-c', '(sleep 1; echo served > /tmp/ready) >/dev/null 2>&1 & exit 0'], ['test', '-f', '/tmp/ready']);
      destroyAfter(ctx, t.engine, s.id);
      assert.equal(await sh(t.engine, s.id, 'cat /tmp/ready'), 'served');
    });

    it('fails the create at the ready timeout while it runs but never gets ready', { timeout: 120_000 }, async () => {
      await assert.rejects(create('never-ready', ['sleep', '1000'], ['false'], 1500), /template never-ready's ready check \["false"\] did not pass within 1500 ms/);
      gone('never-ready');
    });
  });

  it('shares an in-flight build only with an identical recipe', async () => {
    const recipe = (content: string) => parseRecipe({ name: 'racing', from: { template: 'busybox' }, files: [{ path: '/etc/which', content }] });
    const [a, same, b] = await Promise.all([t.templates.build(recipe('a')), t.templates.build(recipe('a')), t.templates.build(recipe('b'))]);
    assert.equal(same, a, 'an identical build in flight is shared');
    assert.equal(a.recipe.files[0]!.content, 'a');
    assert.equal(b.recipe.files[0]!.content, 'b', 'a different recipe got the build in flight');
    // Private keys live apart from the public name.
    const mine = await t.templates.build(recipe('mine'), undefined, { key: 'racing@t_one' });
    assert.equal(mine.name, 'racing@t_one');
    assert.equal(t.templates.find('racing')!.recipe.files[0]!.content, 'b');
  });

  it('imports an OCI image layout and a docker-save tarball', async () => {
    // Make an OCI image with umoci from the busybox layer, then a docker archive of it with skopeo.
    const busybox = await t.templates.ensure('busybox');
    const layout = join(scratch, 'layout');
    await runCommand('umoci', ['init', '--layout', layout]);
    await runCommand('umoci', ['new', '--image', `${layout}:v1`]);
    await runCommand('umoci', ['unpack', '--image', `${layout}:v1`, join(scratch, 'bundle')]);
    await cp(busybox.layers[0]!, join(scratch, 'bundle', 'rootfs'), { recursive: true, verbatimSymlinks: true });
    await mkdir(join(scratch, 'bundle', 'rootfs', 'etc'), { recursive: true });
    await writeFile(join(scratch, 'bundle', 'rootfs', 'etc', 'imported'), 'from-oci\n');
    await runCommand('umoci', ['repack', '--image', `${layout}:v1`, join(scratch, 'bundle')]);
    const archive = join(scratch, 'image.tar');
    await runCommand('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:imported:v1`]);

    await t.templates.build(parseRecipe({ name: 'from-layout', from: { oci: { path: layout, ref: 'v1' } } }));
    await t.templates.build(parseRecipe({ name: 'from-archive', from: { oci: { path: archive } } }));
    for (const name of ['from-layout', 'from-archive']) {
      const s = await t.engine.run({ template: name });
      assert.equal(await sh(t.engine, s.id, 'cat /etc/imported'), 'from-oci', name);
      await t.engine.destroy(s.id);
    }
    await assert.rejects(t.templates.build(parseRecipe({ name: 'missing', from: { oci: { path: join(scratch, 'nope') } } })),
      (e: AgentboxError) => e.code === 'invalid_argument');
  });
});
