import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fdSink, writeAllSync } from './fd-sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'fd-sink-'));
const isClosed = (fd: number) => { try { fstatSync(fd); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EBADF'; } };

test('writeAllSync writes every buffer in order, also more than one writev takes (IOV_MAX)', () => {
  const buffers = Array.from({ length: 3000 }, (_, i) => Buffer.from(`${i},`));
  const path = join(dir, 'many');
  const fd = openSync(path, 'w');
  writeAllSync(fd, [...buffers, Buffer.alloc(0)]);
  assert.equal(readFileSync(path, 'utf8'), Buffer.concat(buffers).toString());
});

test('fdSink writes a stream whole and closes the descriptor; a failing source closes it too', async () => {
  const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(65536, i));
  const path = join(dir, 'whole');
  const fd = openSync(path, 'w');
  await pipeline(Readable.from(chunks), fdSink(fd));
  assert.ok(readFileSync(path).equals(Buffer.concat(chunks)));
  assert.ok(isClosed(fd), 'closed at the end');

  const failing = openSync(join(dir, 'failing'), 'w');
  const source = new Readable({ read() { this.destroy(new Error('client went away')); } });
  await assert.rejects(pipeline(source, fdSink(failing)), /client went away/);
  assert.ok(isClosed(failing), 'closed on failure');
});

test('fdSink writes what it gathered at the end, and a write that fails there fails the stream', async () => {
  // Less than one gathering (1 MiB), so every byte is written by the end's flush.
  const chunks = Array.from({ length: 5 }, (_, i) => Buffer.alloc(100_000, i + 1));
  const path = join(dir, 'short');
  const fd = openSync(path, 'w');
  await pipeline(Readable.from(chunks), fdSink(fd));
  assert.ok(readFileSync(path).equals(Buffer.concat(chunks)));

  // A descriptor open only for reading: the write at the end fails, and the pipeline says so.
  const readOnly = openSync(path, 'r');
  await assert.rejects(pipeline(Readable.from(chunks), fdSink(readOnly)), { code: 'EBADF' });
  assert.ok(isClosed(readOnly), 'closed on failure');
});
