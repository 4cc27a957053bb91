/**
 * Project rules that a type checker does not enforce: every error thrown from src/ belongs to
 * the AgentboxError family, so callers that catch it miss nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('..', import.meta.url).pathname;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('_pb.ts')) out.push(path);
  }
  return out;
}

describe('source rules', () => {
  it('src/ creates no bare Error: failures are AgentboxError (or a subclass)', () => {
    const offenders: string[] = [];
    for (const file of sources(join(root, 'src'))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (/\bnew (Type|Range)?Error\(|\bthrow Error\(/.test(line)) offenders.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(offenders, []);
  });
});
