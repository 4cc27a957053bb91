/** Golden snapshot builds seen from the host (src/engine/golden-snapshots.ts), for tests and benchmarks. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_KEY_RE } from '../../src/engine/golden-snapshots.ts';
import { waitFor } from './wait.ts';

/**
 * Waits until the engine at `engineHome` builds no golden snapshot: a `<key>.tmp` directory
 * marks a build, from before its hidden builder sandbox exists until after it is gone. The
 * builder is background work an earlier create started; it comes and goes on its own.
 */
export async function untilNoGoldenBuild(engineHome: string): Promise<void> {
  const dir = join(engineHome, 'golden');
  await waitFor('the golden snapshot build in progress to end', () => !existsSync(dir) || !readdirSync(dir).some((n) => n.endsWith('.tmp')), 120_000, 50);
}

/** Waits until the engine at `engineHome` holds at least `n` complete golden snapshots; their keys. */
export function untilGoldens(engineHome: string, n: number, timeoutMs = 120_000): Promise<string[]> {
  return waitFor(`${n} golden snapshot(s) to be made`, () => goldenKeys(engineHome).length >= n ? goldenKeys(engineHome) : null, timeoutMs, 50);
}

/** The complete golden snapshots of the engine at `engineHome`, by key. */
export function goldenKeys(engineHome: string): string[] {
  const dir = join(engineHome, 'golden');
  return existsSync(dir) ? readdirSync(dir).filter((n) => GOLDEN_KEY_RE.test(n)).sort() : [];
}
