/**
 * Shared fixture of the OpenSandbox suite: the installed SDKs (scripts/opensandbox-sdks.sh) and
 * how a test loads the npm one unchanged from its own install directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { skipOutsideCI } from '../support/ci.ts';

export interface OpenSandboxSdks {
  js: { version: string; dir: string }[];
  python: { version: string; dir: string; python: string }[];
  /** Agent-framework backends over the PyPI SDK, each in its own virtualenv (absent in manifests written before them). */
  frameworks?: { name: string; version: string; dir: string; python: string }[];
}

/** The installed SDKs; outside CI, why the suite must skip when they are not installed. */
export function openSandboxSdks(): OpenSandboxSdks | string {
  const root = process.env.AGENTBOX_OPENSANDBOX_SDKS ?? join(homedir(), '.cache', 'agentbox', 'opensandbox-sdks');
  const file = join(root, 'manifest.json');
  if (!existsSync(file)) return skipOutsideCI(`the OpenSandbox SDKs are not installed (no ${file})`, 'run ./scripts/setup.sh --for-tests, or bash scripts/opensandbox-sdks.sh');
  return JSON.parse(readFileSync(file, 'utf8')) as OpenSandboxSdks;
}

/** What the suite claims (docs/opensandbox.md): two npm releases and two PyPI minors, one of them 1.1.x. */
export function sdkProblems(m: OpenSandboxSdks): string[] {
  const problems: string[] = [];
  if (m.js.length < 2) problems.push(`${m.js.length} npm versions installed, the suite claims two`);
  if (!m.python.some((p) => p.version.startsWith('1.1.'))) problems.push('no PyPI opensandbox 1.1.x installed');
  if (new Set(m.python.map((p) => p.version.split('.').slice(0, 2).join('.'))).size < 2) problems.push('PyPI opensandbox: fewer than two minor versions installed');
  for (const x of [...m.js, ...m.python]) if (!existsSync(join(x.dir, '.done'))) problems.push(`${x.dir} is not a finished install`);
  return problems;
}

/** The npm SDK as its users import it (its package `exports`), from its own install. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function importJsSdk(dir: string): Promise<any> {
  const pkg = join(dir, 'node_modules', '@alibaba-group', 'opensandbox');
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { exports: { '.': { import: string } } };
  return import(pathToFileURL(join(pkg, manifest.exports['.'].import)).href);
}
