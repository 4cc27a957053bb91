// The E2B SDK scenarios (test/e2b/scenarios.mjs, the same script the one-machine conformance
// suite runs) that the Kubernetes backend supports, and how a test runs them against a server of
// `agentbox up --kubernetes`. Pause, snapshots, fork and metrics answer not_supported there
// (docs/kubernetes.md). Shared by the simulated-pod and the real-node suites.
import assert from 'node:assert/strict';
import { runScenarios, scenarioFile, type SdkManifest } from '../e2b/fixture.ts';

export const KUBERNETES_E2B_SCENARIOS = [
  'create', 'commands.run with streaming callbacks', 'background command, connect by pid, kill', 'pty',
  'files write/read/list/exists/remove/watch', 'upload and download 5 MiB', 'metadata list filters', 'getInfo and setTimeout',
  'kill, and kill of an unknown id is false',
];

/** Runs them with npm `e2b` latest against `server` and asserts every one passed. */
export async function assertE2bScenariosPass(manifest: SdkManifest, server: { url: string; adminKey?: string }, timeoutMs = 240_000): Promise<void> {
  const sdk = manifest.js.find((x) => x.line === 'latest')!;
  const env = {
    E2B_API_KEY: server.adminKey!, E2B_API_URL: `${server.url}/e2b`, E2B_SANDBOX_URL: `${server.url}/e2b/sandbox`,
    E2B_SDK_DIR: sdk.dir, E2B_SDK_VERSION: sdk.version, E2B_SCENARIOS: KUBERNETES_E2B_SCENARIOS.join('|'),
  };
  const run = await runScenarios(process.execPath, [scenarioFile('scenarios.mjs')], env, timeoutMs);
  assert.deepEqual(run.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`), []);
  assert.deepEqual(run.results.map((r) => r.name), KUBERNETES_E2B_SCENARIOS, run.stderr);
}
