#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with Node's own test runner (tsx loads TypeScript).
// Node 20's `--test` does not expand globs, so the files are found here.
// Usage: npm test [-- <substring filter>...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = ['src', 'test'].flatMap((d) => walk(join(root, d), [])).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-reporter', 'spec',
  '--test-concurrency', process.env.AGENTBOX_TEST_CONCURRENCY ?? '2',
  ...files,
], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
