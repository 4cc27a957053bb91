/**
 * Project rules that a type checker does not enforce: every error thrown from src/ belongs to
 * the AgentboxError family, so callers that catch it miss nothing; and the Kubernetes API's
 * group, version and label strings are spelled once, in src/api/k8s/; and no import runs back
 * up the layers of docs/architecture.md.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** What each folder of src/ may import: the layers of docs/architecture.md, top to bottom. */
const MAY_IMPORT: Record<string, string[]> = {
  cli: ['app', 'k8s', 'sdk', 'server', 'engine', 'api'],
  app: ['gateway', 'cluster', 'server', 'engine', 'envd', 'api'],
  cluster: ['server', 'k8s', 'envd', 'guest', 'api'],
  gateway: ['server', 'api'],
  server: ['engine', 'envd', 'guest', 'api'],
  engine: ['envd', 'guest', 'api'],
  k8s: ['envd', 'guest', 'api'],
  sdk: ['envd', 'guest', 'api'],
  // The web console runs in a browser: the API's types and protocol facts, nothing of the server.
  console: ['api'],
  envd: ['guest', 'api'],
  guest: ['api'],
  api: [],
};

/** The only parts of the in-sandbox daemon that host-side code may import: protocol types. */
const GUEST_PROTOCOL = /^src\/guest\/(gen\/|config\.ts$|http\/init\.ts$|version\.ts$)/;

describe('layers', () => {
  it('no import runs back up, and host code takes only protocol types from the daemon', () => {
    const offenders: string[] = [];
    for (const file of sources(join(root, 'src'))) {
      const rel = relative(root, file);
      const from = rel.split('/')[1]!;
      const allowed = MAY_IMPORT[from];
      if (!allowed) { offenders.push(`${rel}: folder src/${from} has no entry in MAY_IMPORT`); continue; }
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = relative(root, resolve(dirname(file), m[1]!));
        const to = target.split('/')[1]!;
        if (!target.startsWith('src/') || to === from) continue;
        if (!allowed.includes(to)) offenders.push(`${rel} imports ${target}: src/${from} may not import src/${to}`);
        else if (to === 'guest' && !GUEST_PROTOCOL.test(target)) offenders.push(`${rel} imports ${target}: only protocol types of src/guest`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});
