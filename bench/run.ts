/**
 * `npm run bench [-- <suite filter>]`: runs every bench/*.bench.ts and prints markdown tables
 * headed with the machine and date, ready to paste into BENCHMARKS.md.
 */
import { readdirSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import type { BenchRow, BenchSuite } from './harness.ts';

const dir = new URL('.', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
console.log(`# agentbox benchmarks — ${new Date().toISOString().slice(0, 10)}`);
console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}\n`);
let failed = false;
for (const file of files) {
  const suite = (await import(new URL(file, import.meta.url).href)).default as BenchSuite;
  const rows: BenchRow[] = [];
  console.error(`running ${suite.name}…`);
  try {
    await suite.run({ report: (r) => rows.push(r), log: (m) => console.error(`  ${m}`) });
  } catch (err) {
    failed = true;
    console.error(`suite ${suite.name} failed:`, err);
  }
  console.log(`## ${suite.name}\n`);
  console.log('| measure | value | same-run baseline | ratio | target |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const base = r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : '';
    const ratio = r.baseline && r.baseline.value > 0 ? `${(r.value / r.baseline.value).toFixed(2)}×` : '';
    console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} | ${r.target ?? ''} |`);
  }
  console.log('');
}
process.exit(failed ? 1 : 0);
