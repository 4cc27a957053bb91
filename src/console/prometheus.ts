/**
 * Reading the server's `/metrics` (Prometheus text format 0.0.4, src/gateway/metrics.ts) into
 * the few series the console charts. Pure functions of two scrapes and their times, so they are
 * tested without a server (prometheus.test.ts).
 */

export interface Sample { name: string; labels: Record<string, string>; value: number }

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of an exposition; comments and lines that are not samples are skipped. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples called `name` whose labels include `match`. */
export function total(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export const SANDBOX_STATES = ['running', 'paused', 'creating', 'pooled', 'failed'] as const;

/** One point of every chart: what changed between two scrapes `seconds` apart. */
export interface Point {
  createsPerSecond: number;
  claimsPerSecond: number;
  /** Mean latency in ms of the operations finished in between; null when none did. */
  claimMs: number | null;
  execMs: number | null;
  sandboxes: Record<(typeof SANDBOX_STATES)[number], number>;
  residentMiB: number;
}

const OPS = 'agentbox_operation_duration_seconds';

export function pointBetween(before: Sample[], after: Sample[], seconds: number): Point {
  const delta = (name: string, op: string) => total(after, name, { op }) - total(before, name, { op });
  const meanMs = (op: string) => {
    const n = delta(`${OPS}_count`, op);
    return n > 0 ? (delta(`${OPS}_sum`, op) / n) * 1000 : null;
  };
  return {
    createsPerSecond: delta(`${OPS}_count`, 'create') / seconds,
    claimsPerSecond: delta(`${OPS}_count`, 'claim') / seconds,
    claimMs: meanMs('claim'),
    execMs: meanMs('exec'),
    sandboxes: Object.fromEntries(SANDBOX_STATES.map((s) => [s, total(after, 'agentbox_sandboxes', { state: s })])) as Point['sandboxes'],
    // prom-client's default metrics under the prefix src/gateway/metrics.ts gives them.
    residentMiB: total(after, 'agentbox_process_process_resident_memory_bytes') / 1024 / 1024,
  };
}
