/**
 * `npm run bench [-- <suite filter>]`: runs every bench/*.bench.ts and prints markdown tables
 * headed with the machine, date and commit, ready to paste into BENCHMARKS.md. A suite that
 * throws or reports no row fails the run (exit 1), with the reason in its table.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import type { BenchRow, BenchSuite } from './harness.ts';

const dir = new URL('.', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: dir, encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
console.log(`# agentbox benchmarks — ${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC, commit ${commit()}`);
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}\n`);
let failed = false;
for (const file of files) {
  const suite = (await import(new URL(file, import.meta.url).href)).default as BenchSuite;
  const rows: BenchRow[] = [];
  let error: string | undefined;
  console.error(`running ${suite.name}…`);
  try {
    await suite.run({ report: (r) => rows.push(r), log: (m) => console.error(`  ${m}`) });
    if (rows.length === 0) error = 'the suite reported no figure';
  } catch (err) {
    error = (err as Error).message;
    console.error(`suite ${suite.name} failed:`, err);
  }
  console.log(`## ${suite.name}\n`);
  if (error) {
    failed = true;
    console.log(`**FAILED: ${error}**\n`);
  }
  if (rows.length === 0) continue;
  console.log('| measure | value | n | same-run baseline | ratio | target |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const value = r.computed ? `${fmt(r.value)} ${r.unit} (computed: ${r.computed})` : `${fmt(r.value)} ${r.unit}`;
    const base = r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : 'no baseline';
    const ratio = r.baseline && r.baseline.value > 0 ? `${(r.value / r.baseline.value).toFixed(2)}×` : '';
    console.log(`| ${r.name} | ${value} | ${r.n} | ${base} | ${ratio} | ${r.target ?? ''} |`);
  }
  console.log('');
}
process.exit(failed ? 1 : 0);
