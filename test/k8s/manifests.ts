// The tools that render deploy/ (`kubectl kustomize`, `helm template` from scripts/build-helm.sh)
// and the parsing of what they print, for the tests of the manifests: deploy-manifests, guardrails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { defaultCacheDir } from '../../src/engine/runtime/runtime-classes.ts';
import { skipOutsideCI } from '../support/ci.ts';
import { KUBECONFIG } from './harness.ts';

const root = new URL('../..', import.meta.url).pathname;
const helmVersion = /AGENTBOX_HELM_VERSION:-(v[0-9.]+)/.exec(readFileSync(join(root, 'scripts/build-helm.sh'), 'utf8'))![1]!;
export const HELM = join(defaultCacheDir(), 'helm', helmVersion, 'helm');
/** The skip reason of a Helm test (false when helm is built); outside CI only. */
export const helmMissing = existsSync(HELM) ? false : skipOutsideCI(`helm ${helmVersion} is not built (${HELM})`, 'run bash scripts/build-helm.sh, or ./scripts/setup.sh --for-tests');

/** Runs a command from the repository root; fails the test unless it exits 0. */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 120_000, cwd: root });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}
export const kubectl = (args: string[], input?: string) => run('kubectl', ['--kubeconfig', KUBECONFIG, ...args], input);
/** The objects of a multi-document YAML stream (empty documents dropped). */
export const parseManifests = <T>(text: string) => parseAllDocuments(text).map((d) => d.toJS() as T | null).filter((o): o is T => !!o);
export const toYaml = (objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n---\n');
