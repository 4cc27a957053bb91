// Steps of an operation are timed and reported once, with the whole; nothing when it fails or nobody listens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PhaseTimes } from './phase-times.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('reports each step (a repeated step adds up) and the total, once done', async () => {
  const reports: [string, string, Record<string, number>][] = [];
  const p = new PhaseTimes('create', 'sbx1', (op, id, phases) => reports.push([op, id, phases]));
  assert.equal(await p.time('disk', async () => { await tick(20); return 'made'; }), 'made');
  await p.time('disk', () => tick(20));
  await Promise.all([p.time('network', () => tick(20)), p.time('bundle', () => tick(5))]);
  assert.equal(reports.length, 0, 'nothing before done()');
  p.done();
  assert.equal(reports.length, 1);
  const [op, id, phases] = reports[0]!;
  assert.deepEqual([op, id, Object.keys(phases).sort()], ['create', 'sbx1', ['bundle', 'disk', 'network', 'total']]);
  assert.ok(phases.disk! >= 38, `both disk steps count: ${phases.disk}`);
  assert.ok(phases.total! >= phases.disk! + phases.network! - 1, 'the total spans the steps');
});

test('a failing step still rethrows its error unchanged; without a listener the steps just run', async () => {
  const failure = new Error('mkfs failed');
  const p = new PhaseTimes('create', 'sbx1', () => assert.fail('a failed operation is never reported'));
  await assert.rejects(p.time('disk', async () => { throw failure; }), (e) => e === failure);
  const quiet = new PhaseTimes('boot', 'sbx2', undefined);
  assert.equal(await quiet.time('guest ready', async () => 42), 42);
  quiet.done();
});
