// test-file-guests: typescript native
// execd's file and directory routes against a real guest process: info, upload (metadata + file
// parts), download (whole, byte ranges, lines), search, replace, permissions, move, delete, and
// directories create/list/delete; every refusal in execd's {code, message} shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execdFetch, type ExecdCaller } from '../support/execd-client.ts';
import { startGuest, type RunningGuest } from './fixture.ts';

let g: RunningGuest;
let c: ExecdCaller;
let root: string;
before(async () => {
  g = await startGuest({ config: { execdPort: 0 } });
  c = { url: g.execdUrl!, token: g.accessToken };
  root = join(g.dir, 'files');
  mkdirSync(root);
});
after(async () => { await g?.stop(); });

const q = (params: [string, string][]) => new URLSearchParams(params).toString();

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  assert.equal(res.status, status);
  const body = await res.json() as { code: string; message: string };
  assert.equal(body.code, code, body.message);
  if (message) assert.match(body.message, message);
}

function uploadForm(parts: { meta?: unknown; data?: string }[]): FormData {
  const form = new FormData();
  for (const p of parts) {
    if (p.meta !== undefined) form.append('metadata', new Blob([typeof p.meta === 'string' ? p.meta : JSON.stringify(p.meta)], { type: 'application/json' }), 'metadata');
    if (p.data !== undefined) form.append('file', new Blob([p.data]), 'file');
  }
  return form;
}

describe('upload and download', () => {
  test('upload writes each file at its metadata path with its mode; parents created', async () => {
    const a = join(root, 'up', 'deep', 'a.txt');
    const b = join(root, 'up', 'b.sh');
    // The Python SDK sends unset fields as null.
    const res = await execdFetch(c, '/files/upload', { raw: uploadForm([{ meta: { path: a, owner: null, group: null }, data: 'alpha\nbeta\ngamma\n' }, { meta: { path: b, mode: 755 }, data: '#!/bin/sh\n' }]) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(readFileSync(a, 'utf8'), 'alpha\nbeta\ngamma\n');
    assert.equal(statSync(b).mode & 0o777, 0o755);
  });

  test('upload refusals: missing metadata, metadata that is not JSON, not multipart', async () => {
    await expectError(await execdFetch(c, '/files/upload', { raw: uploadForm([{ data: 'x' }]) }), 400, 'INVALID_FILE_METADATA');
    await expectError(await execdFetch(c, '/files/upload', { raw: uploadForm([{ meta: '{oops', data: 'x' }]) }), 400, 'INVALID_FILE_METADATA', /not JSON/);
    await expectError(await execdFetch(c, '/files/upload', { raw: uploadForm([{ meta: { mode: 644 }, data: 'x' }]) }), 400, 'INVALID_FILE_METADATA', /path/);
    await expectError(await execdFetch(c, '/files/upload', { body: { path: '/x' } }), 400, 'INVALID_FILE');
  });

  test('download: whole file, a byte range (206), an unsatisfiable range (416), lines by offset/limit', async () => {
    const path = join(root, 'dl.txt');
    writeFileSync(path, 'line1\nline2\nline3\nline4\n');
    const whole = await execdFetch(c, `/files/download?${q([['path', path]])}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), '24');
    assert.match(whole.headers.get('content-disposition') ?? '', /dl\.txt/);
    assert.equal(await whole.text(), 'line1\nline2\nline3\nline4\n');
    const part = await execdFetch(c, `/files/download?${q([['path', path]])}`, { headers: { range: 'bytes=6-10' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 6-10/24');
    assert.equal(await part.text(), 'line2');
    const suffix = await execdFetch(c, `/files/download?${q([['path', path]])}`, { headers: { range: 'bytes=-6' } });
    assert.equal(await suffix.text(), 'line4\n');
    const beyond = await execdFetch(c, `/files/download?${q([['path', path]])}`, { headers: { range: 'bytes=100-' } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), 'bytes */24');
    const lines = await execdFetch(c, `/files/download?${q([['path', path], ['offset', '2'], ['limit', '2']])}`);
    assert.equal(await lines.text(), 'line2\nline3');
  });

  test('download refusals: missing path, missing file, a directory, bad offset, range with offset', async () => {
    await expectError(await execdFetch(c, '/files/download'), 400, 'MISSING_QUERY', /path/);
    await expectError(await execdFetch(c, `/files/download?${q([['path', join(root, 'none')]])}`), 404, 'FILE_NOT_FOUND', /none/);
    await expectError(await execdFetch(c, `/files/download?${q([['path', root]])}`), 400, 'INVALID_FILE');
    writeFileSync(join(root, 'o.txt'), 'x');
    await expectError(await execdFetch(c, `/files/download?${q([['path', join(root, 'o.txt')], ['offset', '0']])}`), 400, 'INVALID_REQUEST_BODY', /offset/);
    await expectError(await execdFetch(c, `/files/download?${q([['path', join(root, 'o.txt')], ['offset', '1']])}`, { headers: { range: 'bytes=0-1' } }), 400, 'INVALID_REQUEST_BODY', /either/);
  });
});

describe('info, search, replace, permissions, move, delete', () => {
  test('info describes each path; a missing one is 404 FILE_NOT_FOUND', async () => {
    const f = join(root, 'info.txt');
    writeFileSync(f, 'hello');
    const link = join(root, 'info-link');
    symlinkSync(f, link);
    const res = await execdFetch(c, `/files/info?${q([['path', f], ['path', link], ['path', root]])}`);
    const info = await res.json() as Record<string, { path: string; type: string; size: number; mode: number; owner: string; modified_at: string }>;
    assert.equal(info[f]!.type, 'file');
    assert.equal(info[f]!.size, 5);
    assert.equal(info[f]!.mode, Number((statSync(f).mode & 0o777).toString(8)));
    assert.equal(info[f]!.owner, 'root');
    assert.ok(!Number.isNaN(Date.parse(info[f]!.modified_at)));
    assert.equal(info[link]!.type, 'symlink');
    assert.equal(info[root]!.type, 'directory');
    await expectError(await execdFetch(c, `/files/info?${q([['path', join(root, 'missing')]])}`), 404, 'FILE_NOT_FOUND');
    await expectError(await execdFetch(c, '/files/info'), 400, 'MISSING_QUERY');
  });

  test('search: by name anywhere below, by relative path, default all files', async () => {
    const dir = join(root, 'search');
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    for (const p of ['top.py', 'a/mid.py', 'a/b/deep.py', 'a/b/notes.md']) writeFileSync(join(dir, p), '');
    const found = async (pattern?: string) => {
      const params: [string, string][] = [['path', dir]];
      if (pattern) params.push(['pattern', pattern]);
      const res = await execdFetch(c, `/files/search?${q(params)}`);
      return ((await res.json()) as { path: string }[]).map((f) => f.path.slice(dir.length + 1)).sort();
    };
    assert.deepEqual(await found('*.py'), ['a/b/deep.py', 'a/mid.py', 'top.py']);
    assert.deepEqual(await found('a/*/*.md'), ['a/b/notes.md']);
    assert.deepEqual(await found('a/**/*.py'), ['a/b/deep.py', 'a/mid.py']);
    assert.deepEqual(await found(), ['a/b/deep.py', 'a/b/notes.md', 'a/mid.py', 'top.py']);
    await expectError(await execdFetch(c, `/files/search?${q([['path', join(dir, 'top.py')]])}`), 400, 'INVALID_REQUEST_BODY', /not a directory/);
  });

  test('replace: every occurrence, counts when verbose; a missing file changes nothing', async () => {
    const a = join(root, 'r1.txt');
    const b = join(root, 'r2.txt');
    writeFileSync(a, 'foo bar foo');
    writeFileSync(b, 'nothing');
    const res = await execdFetch(c, '/files/replace?verbose=true', { body: { [a]: { old: 'foo', new: 'baz' }, [b]: { old: 'foo', new: 'x' } } });
    assert.deepEqual(await res.json(), { [a]: { replacedCount: 2 }, [b]: { replacedCount: 0 } });
    assert.equal(readFileSync(a, 'utf8'), 'baz bar baz');
    const quiet = await execdFetch(c, '/files/replace', { body: { [a]: { old: 'baz', new: 'q' } } });
    assert.equal(quiet.status, 200);
    assert.equal(await quiet.text(), '');
    await expectError(await execdFetch(c, '/files/replace', { body: { [a]: { old: 'q', new: 'z' }, [join(root, 'gone')]: { old: 'a', new: 'b' } } }), 404, 'FILE_NOT_FOUND');
    assert.equal(readFileSync(a, 'utf8'), 'q bar q');
    await expectError(await execdFetch(c, '/files/replace', { body: { [a]: { old: '', new: 'z' } } }), 400, 'INVALID_REQUEST_BODY', /old/);
  });

  test('permissions: mode as octal digits, owner and group by name; bad modes and unknown users refused', async () => {
    const f = join(root, 'perm.txt');
    writeFileSync(f, '');
    assert.equal((await execdFetch(c, '/files/permissions', { body: { [f]: { mode: 640, owner: 'nobody', group: 'nogroup' } } })).status, 200);
    assert.equal((await execdFetch(c, '/files/permissions', { body: { [f]: { mode: 640, owner: null, group: null } } })).status, 200);
    const st = statSync(f);
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(st.uid, 65534);
    await expectError(await execdFetch(c, '/files/permissions', { body: { [f]: { mode: 689 } } }), 400, 'INVALID_REQUEST_BODY', /octal/);
    await expectError(await execdFetch(c, '/files/permissions', { body: { [f]: { owner: 'no-such-user' } } }), 400, 'INVALID_REQUEST_BODY', /no-such-user/);
    await expectError(await execdFetch(c, '/files/permissions', { body: { [join(root, 'nope')]: { mode: 644 } } }), 404, 'FILE_NOT_FOUND');
  });

  test('move renames into new parents; delete removes files but refuses directories', async () => {
    const src = join(root, 'mv-src.txt');
    const dest = join(root, 'moved', 'deeper', 'dest.txt');
    writeFileSync(src, 'moving');
    assert.equal((await execdFetch(c, '/files/mv', { body: [{ src, dest }] })).status, 200);
    assert.equal(readFileSync(dest, 'utf8'), 'moving');
    assert.equal(existsSync(src), false);
    await expectError(await execdFetch(c, '/files/mv', { body: [{ src, dest }] }), 404, 'FILE_NOT_FOUND');
    await expectError(await execdFetch(c, '/files/mv', { body: { src, dest } }), 400, 'INVALID_REQUEST_BODY');
    assert.equal((await execdFetch(c, `/files?${q([['path', dest]])}`, { method: 'DELETE' })).status, 200);
    assert.equal(existsSync(dest), false);
    await expectError(await execdFetch(c, `/files?${q([['path', join(root, 'moved')]])}`, { method: 'DELETE' }), 400, 'INVALID_FILE', /directory/);
    await expectError(await execdFetch(c, `/files?${q([['path', dest]])}`, { method: 'DELETE' }), 404, 'FILE_NOT_FOUND');
  });
});

describe('directories', () => {
  test('create with parents and mode, list by depth in lexical order, delete the tree', async () => {
    const top = join(root, 'dirs');
    const res = await execdFetch(c, '/directories', { body: { [join(top, 'b', 'inner')]: { mode: 700 }, [join(top, 'a')]: { mode: 755 } } });
    assert.equal(res.status, 200);
    assert.equal(statSync(join(top, 'b', 'inner')).mode & 0o777, 0o700);
    // Creating what exists is fine (mkdir -p).
    assert.equal((await execdFetch(c, '/directories', { body: { [join(top, 'a')]: { mode: 755 } } })).status, 200);
    writeFileSync(join(top, 'a', 'f.txt'), '');
    const list = async (depth?: string) => {
      const params: [string, string][] = [['path', top]];
      if (depth) params.push(['depth', depth]);
      const body = await (await execdFetch(c, `/directories/list?${q(params)}`)).json() as { path: string; type: string }[];
      return body.map((e) => `${e.path.slice(top.length + 1)}:${e.type}`);
    };
    assert.deepEqual(await list(), ['a:directory', 'b:directory']);
    assert.deepEqual(await list('2'), ['a:directory', 'a/f.txt:file', 'b:directory', 'b/inner:directory']);
    await expectError(await execdFetch(c, `/directories/list?${q([['path', top], ['depth', 'x']])}`), 400, 'INVALID_REQUEST_BODY', /depth/);
    symlinkSync(top, join(root, 'dirs-link'));
    await expectError(await execdFetch(c, `/directories/list?${q([['path', join(root, 'dirs-link')]])}`), 400, 'INVALID_REQUEST_BODY', /symlink/);
    await expectError(await execdFetch(c, `/directories?${q([['path', join(top, 'a', 'f.txt')]])}`, { method: 'DELETE' }), 400, 'INVALID_REQUEST_BODY', /DELETE \/files/);
    assert.equal((await execdFetch(c, `/directories?${q([['path', top]])}`, { method: 'DELETE' })).status, 200);
    assert.equal(existsSync(top), false);
    await expectError(await execdFetch(c, '/directories', { body: { [join(root, 'x')]: { mode: 'rwx' } } }), 400, 'INVALID_REQUEST_BODY');
    await expectError(await execdFetch(c, '/directories', { method: 'DELETE' }), 400, 'MISSING_QUERY');
  });
});
