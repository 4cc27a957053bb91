/**
 * Shared helpers for `npm run bench`. Each bench/*.bench.ts exports `default` as a BenchSuite;
 * bench/run.ts runs them in order and writes one markdown table per suite. A row says exactly
 * what it measured: how many samples, which statistic (a p99 only from at least 100 samples,
 * else the maximum, named as such), the same-run baseline beside it or that there is none, and
 * whether the figure was computed from others rather than measured.
 */
export interface BenchRow {
  /** What was measured, including the statistic (`stat().label`). */
  name: string;
  value: number;
  unit: string;
  /** How many samples the value comes from. */
  n: number;
  /** Same-run baseline to compare with; absent means the table says "no baseline". */
  baseline?: { name: string; value: number };
  /** Set when the value is derived from measured figures rather than measured: how. */
  computed?: string;
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

/**
 * The p-th percentile of `samples` with an honest label: `p<p> of <n>` only when there are enough
 * samples for it to be something other than the maximum (n ≥ 100 / (100 − p): 100 for a p99,
 * 20 for a p95), else `max of <n>`.
 */
export function stat(samples: number[], p: number): { value: number; label: string; n: number } {
  const n = samples.length;
  if (n === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  if (n === 1) return { value: sorted[0]!, label: 'single sample', n };
  if (p > 50 && n < 100 / (100 - p)) return { value: sorted[n - 1]!, label: `max of ${n}`, n };
  const idx = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return { value: sorted[idx]!, label: `p${p} of ${n}`, n };
}

/** A row for the p-th percentile of `samples`, beside the same statistic of the baseline's samples. */
export function percentileRow(what: string, samples: number[], p: number, unit: string, baseline?: { name: string; samples: number[] }, target?: string): BenchRow {
  const v = stat(samples, p);
  const b = baseline && stat(baseline.samples, p);
  return {
    name: `${what}, ${v.label}`, value: v.value, n: v.n, unit,
    ...(baseline && b ? { baseline: { name: `${baseline.name}, ${b.label}`, value: b.value } } : {}),
    ...(target ? { target } : {}),
  };
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

/** A suite that cannot run here fails the bench run, saying why (never an empty table). */
export function cannotRun(suite: string, why: string): never {
  throw new Error(`${suite} cannot run: ${why}`);
}

/** Waits until the warm pool of `template` has `size` ready members; 2 min at most (a first fill builds nothing, it only starts). */
export async function poolFull(api: (path: string) => Promise<{ json(): Promise<{ ready: number }> }>, template: string, size: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if ((await (await api(`/v1/pools/${template}`)).json()).ready >= size) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ${template} pool did not fill to ${size} in 2 min`);
}
