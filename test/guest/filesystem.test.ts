// test-file-guests: typescript native
// filesystem.Filesystem driven through a Connect JSON client against a real guest on real temp dirs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { EventType, FileType, type FilesystemEvent, type WatchDirResponse } from '../../src/guest/gen/filesystem_pb.ts';
import { userHeader } from '../../src/api/envd-protocol.ts';
import { startGuest, type RunningGuest } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

let g: RunningGuest;
let root: string;
before(async () => {
  g = await startGuest();
  root = join(g.dir, 'fs');
  mkdirSync(root);
});
after(async () => { await g?.stop(); });

const code = (c: Code) => (e: unknown) => ConnectError.from(e).code === c;

describe('Stat, MakeDir, Move, ListDir, Remove', () => {
  test('Stat reports type, size, mode, permissions, owner and mtime; NotFound when missing', async () => {
    writeFileSync(join(root, 'a.txt'), 'hello');
    chmodSync(join(root, 'a.txt'), 0o640);
    const { entry } = await g.client.filesystem.stat({ path: join(root, 'a.txt') });
    assert.equal(entry?.name, 'a.txt');
    assert.equal(entry?.type, FileType.FILE);
    assert.equal(entry?.size, 5n);
    assert.equal(entry?.mode, 0o640);
    assert.equal(entry?.permissions, '-rw-r-----');
    assert.equal(entry?.owner, 'root');
    assert.ok(Math.abs(Number(entry!.modifiedTime!.seconds) - statSync(join(root, 'a.txt')).mtimeMs / 1000) < 2);
    await assert.rejects(g.client.filesystem.stat({ path: join(root, 'missing') }), code(Code.NotFound));
  });

  test("a symlink reports its target's type and mode, isSymlink, and the fully resolved target (envd 0.6.x)", async () => {
    const dir = join(root, 'links');
    mkdirSync(join(dir, 'real-dir'), { recursive: true });
    writeFileSync(join(dir, 'real.txt'), 'real');
    chmodSync(join(dir, 'real.txt'), 0o640);
    symlinkSync('real.txt', join(dir, 'to-file'));
    symlinkSync('to-file', join(dir, 'chain')); // a link to a link resolves to the file
    symlinkSync(join(dir, 'real-dir'), join(dir, 'to-dir'));
    symlinkSync('nowhere', join(dir, 'dangling'));
    symlinkSync('.', join(dir, 'real-dir', 'loop'));
    const stat = async (name: string) => (await g.client.filesystem.stat({ path: join(dir, name) })).entry!;
    for (const name of ['to-file', 'chain']) {
      const e = await stat(name);
      assert.deepEqual([e.type, e.isSymlink, e.symlinkTarget, e.mode, e.permissions], [FileType.FILE, true, join(dir, 'real.txt'), 0o640, 'lrwxrwxrwx'], name);
    }
    const toDir = await stat('to-dir');
    assert.deepEqual([toDir.type, toDir.isSymlink, toDir.symlinkTarget], [FileType.DIRECTORY, true, join(dir, 'real-dir')]);
    const dangling = await stat('dangling');
    assert.deepEqual([dangling.type, dangling.isSymlink, dangling.symlinkTarget], [FileType.SYMLINK, true, join(dir, 'nowhere')]);
    const plain = await stat('real.txt');
    assert.deepEqual([plain.type, plain.isSymlink, plain.symlinkTarget], [FileType.FILE, false, undefined]);

    // ListDir describes links the same way and does not descend into a linked directory, so a
    // loop (real-dir/loop → real-dir) ends.
    const { entries } = await g.client.filesystem.listDir({ path: dir, depth: 5 });
    const byPath = new Map(entries.map((e) => [e.path.slice(dir.length + 1), e]));
    assert.deepEqual([...byPath.keys()].sort(), ['chain', 'dangling', 'real-dir', 'real-dir/loop', 'real.txt', 'to-dir', 'to-file']);
    assert.deepEqual([byPath.get('to-dir')?.type, byPath.get('to-dir')?.isSymlink], [FileType.DIRECTORY, true]);
    assert.deepEqual([byPath.get('real-dir/loop')?.type, byPath.get('real-dir/loop')?.symlinkTarget], [FileType.DIRECTORY, join(dir, 'real-dir')]);
  });

  test('metadata: user.e2b.* xattrs of a file, however set, appear in Stat, ListDir and Move; a link shows its target\'s', async () => {
    const dir = join(root, 'meta');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tagged.txt'), 'x');
    // Set inside the sandbox by another tool, as E2B's own test does with setfattr.
    execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.e2b.author", b"mish"); os.setxattr(sys.argv[1], "user.other", b"no")', join(dir, 'tagged.txt')]);
    symlinkSync('tagged.txt', join(dir, 'link'));
    const stat = async (name: string) => (await g.client.filesystem.stat({ path: join(dir, name) })).entry!;
    assert.deepEqual((await stat('tagged.txt')).metadata, { author: 'mish' });
    assert.deepEqual((await stat('link')).metadata, { author: 'mish' });
    const { entries } = await g.client.filesystem.listDir({ path: dir, depth: 1 });
    assert.deepEqual(entries.find((e) => e.name === 'tagged.txt')?.metadata, { author: 'mish' });
    const moved = await g.client.filesystem.move({ source: join(dir, 'tagged.txt'), destination: join(dir, 'renamed.txt') });
    assert.deepEqual(moved.entry?.metadata, { author: 'mish' });
    writeFileSync(join(dir, 'plain.txt'), 'x');
    assert.deepEqual((await stat('plain.txt')).metadata, {});
  });

  test('MakeDir creates parents, owned by the user; AlreadyExists; InvalidArgument over a file', async () => {
    const dir = join(root, 'made', 'deep', 'er');
    const { entry } = await g.client.filesystem.makeDir({ path: dir }, { headers: userHeader('nobody') });
    assert.equal(entry?.type, FileType.DIRECTORY);
    assert.equal(statSync(join(root, 'made')).uid, 65534);
    assert.equal(statSync(dir).uid, 65534);
    await assert.rejects(g.client.filesystem.makeDir({ path: dir }), code(Code.AlreadyExists));
    await assert.rejects(g.client.filesystem.makeDir({ path: join(root, 'a.txt') }), code(Code.InvalidArgument));
  });

  test('MakeDir and Move under /proc, where mkdir answers ENOENT beside an existing parent, fail and the guest keeps serving', async () => {
    // Node's recursive mkdir retried such a path for ever, with the guest's event loop blocked.
    await assert.rejects(g.client.filesystem.makeDir({ path: '/proc/agentbox-x/y' }), code(Code.NotFound));
    writeFileSync(join(root, 'to-proc.txt'), 'x');
    await assert.rejects(g.client.filesystem.move({ source: join(root, 'to-proc.txt'), destination: '/proc/agentbox-x/z' }), code(Code.NotFound));
    assert.equal((await g.client.filesystem.stat({ path: root })).entry?.type, FileType.DIRECTORY);
  });

  test('relative paths and ~ resolve against the home directory', async () => {
    const name = `agentbox-test-${process.pid}-${Date.now()}`;
    try {
      await g.client.filesystem.makeDir({ path: name });
      assert.ok(existsSync(join('/root', name)));
      const { entry } = await g.client.filesystem.stat({ path: `~/${name}` });
      assert.equal(entry?.path, join('/root', name));
    } finally {
      rmSync(join('/root', name), { recursive: true, force: true });
    }
  });

  test('Move renames and returns the new entry', async () => {
    writeFileSync(join(root, 'from.txt'), 'x');
    const { entry } = await g.client.filesystem.move({ source: join(root, 'from.txt'), destination: join(root, 'sub', 'to.txt') });
    assert.equal(entry?.path, join(root, 'sub', 'to.txt'));
    assert.equal(readFileSync(join(root, 'sub', 'to.txt'), 'utf8'), 'x');
    assert.ok(!existsSync(join(root, 'from.txt')));
    await assert.rejects(g.client.filesystem.move({ source: join(root, 'nope'), destination: join(root, 'x') }), code(Code.NotFound));
  });

  test('ListDir honours depth; missing is NotFound; a file is InvalidArgument', async () => {
    const base = join(root, 'tree');
    mkdirSync(join(base, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(base, 'top.txt'), '');
    writeFileSync(join(base, 'a', 'mid.txt'), '');
    writeFileSync(join(base, 'a', 'b', 'low.txt'), '');
    const names = async (depth: number) => (await g.client.filesystem.listDir({ path: base, depth })).entries.map((e) => e.path.slice(base.length + 1)).sort();
    assert.deepEqual(await names(1), ['a', 'top.txt']);
    assert.deepEqual(await names(2), ['a', 'a/b', 'a/mid.txt', 'top.txt']);
    assert.deepEqual(await names(3), ['a', 'a/b', 'a/b/c', 'a/b/low.txt', 'a/mid.txt', 'top.txt']);
    await assert.rejects(g.client.filesystem.listDir({ path: join(root, 'nope'), depth: 1 }), code(Code.NotFound));
    await assert.rejects(g.client.filesystem.listDir({ path: join(base, 'top.txt'), depth: 1 }), code(Code.InvalidArgument));
  });

  test('Remove deletes trees; a missing path is no error (envd removes with os.RemoveAll)', async () => {
    mkdirSync(join(root, 'gone', 'x'), { recursive: true });
    await g.client.filesystem.remove({ path: join(root, 'gone') });
    assert.ok(!existsSync(join(root, 'gone')));
    await g.client.filesystem.remove({ path: join(root, 'gone') });
    await g.client.filesystem.remove({ path: join(root, 'never', 'was') });
  });
});

describe('watching', () => {
  test('WatchDir: start first, then create/write/chmod/remove, recursive, with entries', async () => {
    const dir = join(root, 'watched');
    mkdirSync(join(dir, 'inner'), { recursive: true });
    const abort = new AbortController();
    const events: FilesystemEvent[] = [];
    const frames: string[] = [];
    const stream = g.client.filesystem.watchDir({ path: dir, recursive: true, includeEntry: true }, { signal: abort.signal });
    const reading = (async () => {
      for await (const r of stream as AsyncIterable<WatchDirResponse>) {
        frames.push(r.event.case!);
        if (r.event.case === 'filesystem') events.push(r.event.value);
      }
    })().catch(() => {});
    await waitFor('the first watch frame', () => frames.length > 0);
    assert.equal(frames[0], 'start');

    const seen = (name: string, type: EventType) => events.some((e) => e.name === name && e.type === type);
    writeFileSync(join(dir, 'f.txt'), 'one');
    await waitFor('CREATE f.txt', () => seen('f.txt', EventType.CREATE));
    writeFileSync(join(dir, 'f.txt'), 'two two');
    await waitFor('WRITE f.txt', () => seen('f.txt', EventType.WRITE));
    chmodSync(join(dir, 'f.txt'), 0o600);
    await waitFor('CHMOD f.txt', () => seen('f.txt', EventType.CHMOD));
    writeFileSync(join(dir, 'inner', 'deep.txt'), 'deep');
    await waitFor('CREATE inner/deep.txt', () => seen('inner/deep.txt', EventType.CREATE));
    mkdirSync(join(dir, 'newdir'));
    await waitFor('CREATE newdir', () => seen('newdir', EventType.CREATE));
    writeFileSync(join(dir, 'newdir', 'n.txt'), 'n');
    await waitFor('CREATE newdir/n.txt', () => seen('newdir/n.txt', EventType.CREATE));
    renameSync(join(dir, 'f.txt'), join(dir, 'g.txt'));
    await waitFor('the rename as CREATE g.txt and REMOVE f.txt', () => seen('g.txt', EventType.CREATE) && seen('f.txt', EventType.REMOVE));
    rmSync(join(dir, 'g.txt'));
    await waitFor('REMOVE g.txt', () => seen('g.txt', EventType.REMOVE));

    // The entry is read when the event is handled, so the CREATE may show the file still empty.
    await waitFor('an inner/deep.txt event whose entry has size 4', () => events.some((e) => e.name === 'inner/deep.txt' && e.entry?.path === join(dir, 'inner', 'deep.txt') && e.entry.size === 4n));
    abort.abort();
    await reading;
  });

  test('WatchDir on a missing path is NotFound; non-recursive ignores subdirectories', async () => {
    await assert.rejects((async () => { for await (const _ of g.client.filesystem.watchDir({ path: join(root, 'nope') })) { /* */ } })(), code(Code.NotFound));
    const dir = join(root, 'flat');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const { watcherId } = await g.client.filesystem.createWatcher({ path: dir, recursive: false });
    writeFileSync(join(dir, 'sub', 'hidden.txt'), 'x');
    writeFileSync(join(dir, 'top.txt'), 'x');
    const events: FilesystemEvent[] = [];
    await waitFor('the watcher to report top.txt', async () => {
      events.push(...(await g.client.filesystem.getWatcherEvents({ watcherId })).events);
      return events.some((e) => e.name === 'top.txt');
    });
    assert.ok(!events.some((e) => e.name.includes('hidden')));
    await g.client.filesystem.removeWatcher({ watcherId });
    await assert.rejects(g.client.filesystem.getWatcherEvents({ watcherId }), code(Code.NotFound));
  });

  test('polling watcher: events accumulate between polls and drain on read', async () => {
    const dir = join(root, 'polled');
    mkdirSync(dir);
    const { watcherId } = await g.client.filesystem.createWatcher({ path: dir, recursive: true, includeEntry: true });
    writeFileSync(join(dir, 'p.txt'), 'p');
    const events: FilesystemEvent[] = [];
    await waitFor('the watcher to report CREATE p.txt', async () => {
      events.push(...(await g.client.filesystem.getWatcherEvents({ watcherId })).events);
      return events.some((e) => e.name === 'p.txt' && e.type === EventType.CREATE);
    });
    assert.equal(events.find((e) => e.name === 'p.txt')?.entry?.name, 'p.txt');
    rmSync(join(dir, 'p.txt'));
    await waitFor('the watcher to report REMOVE p.txt', async () => {
      events.push(...(await g.client.filesystem.getWatcherEvents({ watcherId })).events);
      return events.some((e) => e.name === 'p.txt' && e.type === EventType.REMOVE);
    });
    // A removed entry has no EntryInfo to give (envd sends entries on create, write and chmod only).
    assert.equal(events.find((e) => e.name === 'p.txt' && e.type === EventType.REMOVE)?.entry, undefined);
    await new Promise((r) => setTimeout(r, 100));
    await g.client.filesystem.getWatcherEvents({ watcherId });
    assert.deepEqual((await g.client.filesystem.getWatcherEvents({ watcherId })).events, []);
    await g.client.filesystem.removeWatcher({ watcherId });
  });
});
