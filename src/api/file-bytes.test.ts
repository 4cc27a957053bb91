import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { fileBytes } from './file-bytes.ts';

describe('fileBytes', () => {
  test('a file that grows after the size was taken yields that size, by path and by fd; size 0 yields nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentbox-file-bytes-'));
    try {
      const path = join(dir, 'f');
      writeFileSync(path, Buffer.alloc(200_000, 0x61));
      const byPath = fileBytes(path, 200_000);
      const byFd = fileBytes({ fd: openSync(path, 'r') }, 200_000);
      appendFileSync(path, Buffer.alloc(100_000, 0x62));
      for (const stream of [byPath, byFd]) {
        const got = await buffer(stream);
        assert.equal(got.length, 200_000);
        assert.equal(got.every((b) => b === 0x61), true);
      }
      assert.equal((await buffer(fileBytes(path, 0))).length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
