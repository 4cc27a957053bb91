/**
 * Project rules that a type checker does not enforce: every error thrown from src/ belongs to
 * the AgentboxError family, so callers that catch it miss nothing; and the Kubernetes API's
 * group, version and label strings are spelled once, in src/api/k8s/.
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

/** Lines of src/ files (outside `allowed`) that match `pattern`, as `file:line: text`. */
function offendingLines(pattern: RegExp, allowed: (file: string) => boolean = () => false): string[] {
  const offenders: string[] = [];
  for (const file of sources(join(root, 'src'))) {
    const rel = relative(root, file);
    if (allowed(rel)) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (pattern.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  return offenders;
}

describe('source rules', () => {
  it('src/ creates no bare Error: failures are AgentboxError (or a subclass)', () => {
    assert.deepEqual(offendingLines(/\bnew (Type|Range)?Error\(|\bthrow Error\(/), []);
  });

  it('only the two error modules extend Error: every other error class joins their family', () => {
    const errorModules = new Set(['src/api/errors.ts', 'src/sdk/errors.ts']);
    assert.deepEqual(offendingLines(/\bextends Error\b/, (f) => errorModules.has(f)), []);
  });

  it('agents.x-k8s.io group/version and label strings are spelled only in src/api/k8s/', () => {
    assert.deepEqual(offendingLines(/['"`](extensions\.)?agents\.x-k8s\.io\//, (f) => f.startsWith('src/api/k8s/')), []);
  });
});
