import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from './lines.ts';

function split(chunks: (string | Uint8Array)[]): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l));
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.flush();
  return out;
}

test('one event per line without its ending; an empty line is "\\n"; the last partial line at flush', () => {
  assert.deepEqual(split(['a\n\nb\r\nc\rd']), ['a', '\n', 'b', 'c', 'd']);
});

test('lines and \\r\\n split across chunks are joined', () => {
  assert.deepEqual(split(['hel', 'lo\r', '\nwor', 'ld\n']), ['hello', 'world']);
  assert.deepEqual(split(['x\r']), ['x']);
});

test('a multi-byte character cut between chunks is decoded whole', () => {
  const bytes = Buffer.from('é\n');
  assert.deepEqual(split([bytes.subarray(0, 1), bytes.subarray(1)]), ['é']);
});
