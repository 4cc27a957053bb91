/**
 * Shared helpers for `npm run bench`. Each bench/*.bench.ts exports `default` as a BenchSuite;
 * bench/run.ts runs them in order and writes one markdown table per suite. Every figure is
 * printed beside the baseline measured in the same run, so results are compared as ratios.
 */
export interface BenchRow {
  name: string;
  /** Measured value and unit, e.g. 12.3 and 'ms'. */
  value: number;
  unit: string;
  /** Same-run baseline to compare with, if any. */
  baseline?: { name: string; value: number };
  /** Target from the issue, e.g. '< 400 ms'. */
  target?: string;
}

export interface BenchContext {
  report(row: BenchRow): void;
  log(message: string): void;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<void>;
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Runs `fn` `count` times sequentially and returns durations in milliseconds. */
export async function timeMany(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

export async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
