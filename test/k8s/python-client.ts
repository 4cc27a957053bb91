// The venv of the upstream Agent Sandbox Python client (PyPI k8s-agent-sandbox), made by
// scripts/k8s-pyclient.sh: the interpreter the Python tests run, and why it is missing if it is.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KUBECONFIG } from './harness.ts';

const root = new URL('../..', import.meta.url).pathname;

export const venvPython = join(process.env.AGENTBOX_K8S_HOME ?? join(process.env.HOME ?? '', '.cache/agentbox/k8s'), 'venv/bin/python');

/** Makes the venv when it is missing (fast when cached); the reason it could not, or null. */
export function pythonClientReason(): string | null {
  const r = spawnSync('bash', [join(root, 'scripts/k8s-pyclient.sh')], { encoding: 'utf8', timeout: 10 * 60_000 });
  return r.status === 0 ? null : `k8s-agent-sandbox venv could not be created: ${(r.stderr || '').trim().split('\n').slice(-2).join(' | ')}`;
}

/**
 * Runs a script with the venv's interpreter (KUBECONFIG set to the test cluster's) and returns
 * the JSON object on its last stdout line; a non-zero exit fails with the end of its stderr.
 */
export async function runPythonClient(script: string, args: string[], timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const py = spawn(venvPython, [script, ...args], { env: { ...process.env, KUBECONFIG }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  py.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
  py.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const code = await new Promise<number | null>((resolve) => {
    // A bound on a hung client, not a readiness wait: the test fails with what it printed.
    const t = setTimeout(() => { py.kill('SIGKILL'); }, timeoutMs);
    py.on('exit', (c) => { clearTimeout(t); resolve(c); });
  });
  assert.equal(code, 0, `${script} failed:\n${stderr.slice(-3000)}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}
