/** E2B build instructions → agentbox recipes, and the COPY archives they read (pure; archives made by the host's GNU tar). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BuildStart } from '../../../api/e2b-template-build.ts';
import type { AgentboxError } from '../../../api/errors.ts';
import { readArchive } from './archive.ts';
import { COPY_STAGE, e2bRecipe, imageBase } from './recipe.ts';

const dir = mkdtempSync(join(tmpdir(), 'tb-recipe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LIMITS = { maxFiles: 10, maxBytes: 1024 * 1024 };

/** A tar.gz of `paths` under `cwd`, as GNU tar writes it (long names as GNU `L` entries). */
const tarGz = (cwd: string, paths: string[]) => execFileSync('tar', ['-czf', '-', '-C', cwd, ...paths]);

const ctx = join(dir, 'ctx');
mkdirSync(join(ctx, 'conf', 'deep'), { recursive: true });
writeFileSync(join(ctx, 'hello.txt'), 'hello\n', { mode: 0o755 });
writeFileSync(join(ctx, 'conf', 'a.cfg'), 'a=1\n');
const longName = `${'n'.repeat(120)}.txt`;
writeFileSync(join(ctx, 'conf', 'deep', longName), Buffer.from([0, 0xff]));
symlinkSync('hello.txt', join(ctx, 'link'));

describe('COPY archives', () => {
  it('reads regular files with their modes, long names and binary content; directories are implied', () => {
    const files = readArchive(tarGz(ctx, ['hello.txt', 'conf']), LIMITS);
    const byPath = new Map(files.map((f) => [f.path, f]));
    assert.deepEqual([...byPath.keys()].sort(), ['conf/a.cfg', `conf/deep/${longName}`, 'hello.txt']);
    assert.equal(byPath.get('hello.txt')!.mode, 0o755);
    assert.deepEqual(byPath.get(`conf/deep/${longName}`)!.content, Buffer.from([0, 0xff]));
  });

  it('refuses links, archives over the bounds, and what is not a tar', () => {
    assert.throws(() => readArchive(tarGz(ctx, ['link']), LIMITS), (e: AgentboxError) => e.code === 'invalid_argument' && /resolveSymlinks/.test(e.message));
    assert.throws(() => readArchive(tarGz(ctx, ['hello.txt', 'conf']), { maxFiles: 2, maxBytes: LIMITS.maxBytes }), /more than 2 files/);
    // A gzip bomb: a few KiB that inflate past the bound are refused before they are held.
    assert.throws(() => readArchive(gzipSync(Buffer.alloc(8 * 1024 * 1024)), LIMITS), /does not gunzip within/);
    assert.throws(() => readArchive(Buffer.from('not a tar at all'.repeat(40)), LIMITS), /not a tar|neither a file/);
  });
});

describe('E2B instructions as a recipe', () => {
  const hello = tarGz(ctx, ['hello.txt']);
  const conf = tarGz(ctx, ['conf']);
  const uploads: Record<string, Buffer> = { ['a'.repeat(64)]: hello, ['b'.repeat(64)]: conf };
  const translate = (start: unknown) => e2bRecipe({ name: 'app', start: BuildStart.parse(start), limits: LIMITS, upload: (h) => uploads[h] });

  it('carries user, workdir and env into each RUN, stages COPY files and puts them in place in order', () => {
    const { recipe, stepOfRunLine } = translate({
      fromTemplate: 'base',
      steps: [
        { type: 'COPY', args: ['hello.txt', '/app/', '', ''], filesHash: 'a'.repeat(64) },
        { type: 'ENV', args: ['GREETING', "it's here"] },
        { type: 'WORKDIR', args: ['/app'] },
        { type: 'RUN', args: ['echo "$GREETING" > g.txt'] },
        { type: 'USER', args: ['root'] },
        { type: 'COPY', args: ['conf', 'etc', 'user', '640'], filesHash: 'b'.repeat(64) },
        { type: 'RUN', args: ['id -u', 'user'] },
      ],
      startCmd: 'serve', readyCmd: 'test -f /tmp/up',
    });
    assert.deepEqual(recipe.from, { template: 'base' });
    assert.equal(recipe.user, 'root');
    assert.equal(recipe.workdir, '/app');
    assert.deepEqual(recipe.env, { GREETING: "it's here" });
    // Kept running in the template's golden snapshot, as E2B snapshots it at build time once the ready command passed.
    assert.deepEqual(recipe.start, { cmd: ['/bin/sh', '-c', 'serve'], cwd: '/app', user: 'root', goldenSnapshot: true });
    assert.deepEqual(recipe.ready, { cmd: ['/bin/sh', '-c', 'test -f /tmp/up'], timeoutMs: 120_000, goldenSnapshot: true });
    const files = recipe.files as { path: string; content: string; encoding: string }[];
    assert.deepEqual(files.map((f) => f.path), [`${COPY_STAGE}/1/0`, `${COPY_STAGE}/6/1`, `${COPY_STAGE}/6/2`]);
    assert.equal(Buffer.from(files[0]!.content, 'base64').toString(), 'hello\n');
    const run = recipe.run as string[];
    assert.deepEqual(stepOfRunLine, ['1', '3', '4', '6', '7', 'finalize']);
    // The first COPY runs before WORKDIR: /app/ is absolute; its owner is the template's `user`, its mode the file's.
    assert.match(run[0]!, /mkdir -p '\/app' && chown 'user' '\/app'; }; } && cp \/\.agentbox-e2b-copy\/1\/0 '\/app\/hello\.txt' && chmod 755 '\/app\/hello\.txt' && chown 'user'/);
    assert.match(run[2]!, /^su -s \/bin\/sh 'user' -c .*export GREETING=.*cd .*\/app.*g\.txt/s);
    // After USER root, a relative COPY lands under the workdir with the given owner and mode.
    assert.match(run[3]!, /'\/app\/etc\/a\.cfg' && chmod 640 '\/app\/etc\/a\.cfg' && chown 'user'/);
    assert.match(run[4]!, /^su -s \/bin\/sh 'user' -c /);
    assert.equal(run[5], `rm -rf ${COPY_STAGE}`);
  });

  it('a ready command without a start command is passed once, in the golden snapshot, as E2B checks it once at build time', () => {
    const { recipe } = translate({ fromTemplate: 'base', steps: [], readyCmd: 'test -f /etc/hostname' });
    assert.equal(recipe.start, undefined);
    assert.deepEqual(recipe.ready, { cmd: ['/bin/sh', '-c', 'test -f /etc/hostname'], timeoutMs: 120_000, goldenSnapshot: true });
  });

  it('maps the images agentbox builds itself and refuses registry images and credentials, saying what to do', () => {
    assert.deepEqual(imageBase('e2bdev/base'), { template: 'base' });
    assert.deepEqual(imageBase('debian:12-slim'), { debian: { suite: 'bookworm' } });
    assert.deepEqual(imageBase('docker.io/library/debian:trixie'), { debian: { suite: 'trixie' } });
    assert.deepEqual(imageBase('busybox:1.36'), { busybox: {} });
    assert.throws(() => imageBase('python:3.12'), (e: AgentboxError) => e.code === 'invalid_argument' && /cannot be pulled/.test(e.message) && /agentbox template import/.test(e.message));
    assert.throws(() => translate({ fromImage: 'ghcr.io/a/b:1', fromImageRegistry: { type: 'registry', username: 'u', password: 'p' } }), /credentials .* are not supported/);
    assert.throws(() => translate({ fromImage: 'debian:12', fromTemplate: 'base' }), /exactly one of fromImage and fromTemplate/);
  });

  it('refuses bad steps naming the step', () => {
    const bad: [unknown, RegExp][] = [
      [{ type: 'ADD', args: ['x'] }, /step 1: 'ADD' is not a build instruction/],
      [{ type: 'ENV', args: ['A'] }, /key, value pairs/],
      [{ type: 'ENV', args: ['1A', 'v'] }, /not an environment variable name/],
      [{ type: 'USER', args: ['Bad User'] }, /not a user name/],
      [{ type: 'COPY', args: ['x', '/x'], filesHash: 'c'.repeat(64) }, /were not uploaded/],
      [{ type: 'COPY', args: ['x', '/x', '', '9z'], filesHash: 'a'.repeat(64) }, /not octal/],
    ];
    for (const [step, re] of bad) {
      assert.throws(() => translate({ fromTemplate: 'base', steps: [step] }), (e: AgentboxError) => e.code === 'invalid_argument' && re.test(e.message) && e.details?.step === 1, JSON.stringify(step));
    }
  });
});
