import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { VolumeFiles } from './volume-files.ts';

const base = mkdtempSync(join(tmpdir(), 'volume-files-'));
after(() => rmSync(base, { recursive: true, force: true }));

function volume(): { root: string; files: VolumeFiles; outside: string } {
  const dir = mkdtempSync(join(base, 'v-'));
  const root = join(dir, 'data');
  const outside = join(dir, 'host');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret');
  return { root, files: new VolumeFiles(root), outside };
}

const code = (fn: () => unknown) => {
  try { fn(); } catch (err) { return (err as { code?: string }).code; }
  return 'no error';
};

test('write, read, stat, list and remove inside the volume', async () => {
  const { root, files } = volume();
  const e = await files.write('/dir/a.txt', Readable.from([Buffer.from('hello')]), {});
  assert.equal(e.path, '/dir/a.txt');
  assert.equal(e.size, 5);
  assert.equal(e.uid, 1000, 'created files belong to the templates\' user');
  assert.equal(readFileSync(join(root, 'dir', 'a.txt'), 'utf8'), 'hello');
  assert.equal(await text(files.read('dir/a.txt').stream), 'hello');
  assert.deepEqual(files.list('/', 2).map((x) => [x.path, x.type]), [['/dir', 'directory'], ['/dir/a.txt', 'file']]);
  assert.equal(files.mkdir('/x/y', { mode: 0o700 }, true).mode, 0o700);
  assert.equal(code(() => files.mkdir('/x/y', {}, false)), 'already_exists');
  assert.equal(code(() => files.mkdir('/nope/z', {}, false)), 'not_found');
  files.remove('/dir');
  assert.equal(existsSync(join(root, 'dir')), false);
  assert.equal(code(() => files.stat('/dir')), 'not_found');
});

test('. and .. are refused', () => {
  const { files } = volume();
  for (const p of ['../host/secret', '/a/../../host', './x']) assert.equal(code(() => files.stat(p)), 'invalid_argument', p);
});

test('a symlink a sandbox planted is listed and removed, never followed', async () => {
  const { root, files, outside } = volume();
  symlinkSync(join(outside, 'secret'), join(root, 'link'));
  symlinkSync(outside, join(root, 'dirlink'));
  assert.equal(files.stat('/link').type, 'symlink');
  assert.equal(files.stat('/link').target, join(outside, 'secret'));
  assert.equal(code(() => files.read('/link')), 'invalid_argument');
  assert.equal(code(() => files.list('/dirlink')), 'invalid_argument');
  assert.equal(code(() => files.stat('/dirlink/secret')), 'invalid_argument');
  await assert.rejects(files.write('/link', Readable.from([Buffer.from('x')]), {}), { code: 'invalid_argument' });
  await assert.rejects(files.write('/dirlink/new', Readable.from([Buffer.from('x')]), {}), { code: 'invalid_argument' });
  assert.equal(code(() => files.setMetadata('/link', { mode: 0o777 })), 'invalid_argument');
  files.remove('/dirlink');
  files.remove('/link');
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'host secret', 'the target outside is untouched');
  assert.equal(existsSync(join(outside)), true);
});

test('removing a tree does not follow a symlink inside it', () => {
  const { root, files, outside } = volume();
  mkdirSync(join(root, 'tree'));
  symlinkSync(outside, join(root, 'tree', 'escape'));
  files.remove('/tree');
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'host secret');
});
