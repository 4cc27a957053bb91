/**
 * Shared fixture of the E2B conformance suite: the installed SDKs (scripts/e2b-sdks.sh), a real
 * agentbox server over the real engine, and a runner for the scenario scripts, each of which runs
 * in a child process with nothing but the SDK's own environment variables.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SdkManifest {
  js: { version: string; dir: string }[];
  codeInterpreter: { version: string; dir: string };
  python: { dir: string; python: string };
}

/** `skip` names why a scenario did not apply (a feature newer than the SDK version). */
export interface ScenarioResult { name: string; ok: boolean; ms: number; error?: string; skip?: string }

const HERE = import.meta.dirname;

/** The installed SDKs, or why the suite must skip. */
export function sdkManifest(): SdkManifest | string {
  const root = process.env.AGENTBOX_E2B_SDKS ?? join(homedir(), '.cache', 'agentbox', 'e2b-sdks');
  const file = join(root, 'manifest.json');
  if (!existsSync(file)) return `E2B SDKs are not installed: run scripts/e2b-sdks.sh (expected ${file})`;
  return JSON.parse(readFileSync(file, 'utf8')) as SdkManifest;
}

/** Runs a scenario script; resolves with its JSON lines. Bounded by `timeoutMs`. */
export function runScenarios(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ results: ScenarioResult[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: HERE, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const results = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ScenarioResult);
      resolve({ results, stderr: err.slice(-4000) });
    });
  });
}

export const scenarioFile = (name: string) => join(HERE, name);
