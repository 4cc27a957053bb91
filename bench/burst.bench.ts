/**
 * Warm creates through the native SDK under gVisor (issue #13):
 * - warm create → first command done, one at a time, beside its own parts measured in the same
 *   run: a warm claim alone plus one exec of `true` on a sandbox that has run commands already;
 * - the first command after a claim made on an idle host with the pool full, as an agent's
 *   occasional create is, beside that same exec;
 * - a burst of BURST concurrent creates against a pool of BURST, every first command done:
 *   p50, p99 and the slowest (p99 is the slowest under 100) and the wall-clock time of the burst.
 *
 * AGENTBOX_BENCH_BURST (default 100) sizes the burst; on a shared machine run fewer and say so.
 */
import { Sandbox } from '../src/sdk/index.ts';
import { startRealServer, type RealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, stat, timeMany, timeOnce, type BenchSuite } from './harness.ts';

const TEMPLATE = 'busybox';
const SEQUENTIAL = 10;
/** Quiet time before each spaced claim: the refills and kills of the samples before are done. */
const IDLE_BEFORE_CLAIM_MS = 1500;
const BURST = Number(process.env.AGENTBOX_BENCH_BURST ?? 100);

async function poolFull(s: RealServer, size: number): Promise<void> {
  const deadline = Date.now() + 60_000 + size * 5_000;
  while (Date.now() < deadline) {
    if ((await (await s.api(`/v1/pools/${TEMPLATE}`)).json()).ready >= size) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the ${TEMPLATE} pool did not fill to ${size}`);
}

const suite: BenchSuite = {
  name: `warm creates (native SDK, gVisor, ${TEMPLATE})`,
  async run(ctx) {
    const s = await startRealServer('bench-burst', { runtime: 'gvisor', wideSubnet: true });
    if (typeof s === 'string') cannotRun('burst', s);
    const conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
    const made: Sandbox[] = [];
    try {
      await s.created.templates.ensure(TEMPLATE);
      const pool = Math.max(SEQUENTIAL, BURST);
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'PUT', json: { size: pool } });
      await poolFull(s, pool);

      // One at a time: the claim, then the first command, each timed.
      const claims: number[] = [];
      const firsts: number[] = [];
      const whole = await timeMany(SEQUENTIAL, async () => {
        let sbx: Sandbox | undefined;
        claims.push(await timeOnce(async () => { sbx = await Sandbox.create({ ...conn, template: TEMPLATE }); }));
        made.push(sbx!);
        firsts.push(await timeOnce(() => sbx!.commands.run('true')));
      });
      const running = made[0]!;
      const exec = await timeMany(30, () => running.commands.run('true'));
      const claim = stat(claims, 50);
      const steady = stat(exec, 50);
      ctx.report({ ...percentileRow('warm create → first command done', whole, 50, 'ms'), baseline: { name: `computed: warm claim p50 of ${claim.n} (${claim.value.toFixed(1)} ms) + exec \`true\` on a running sandbox p50 of ${steady.n} (${steady.value.toFixed(1)} ms)`, value: claim.value + steady.value }, target: '≤ 2×' });
      ctx.report(percentileRow('of which the first command', firsts, 50, 'ms', { name: 'exec `true` on a running sandbox', samples: exec }));
      ctx.report(percentileRow('of which the warm claim', claims, 50, 'ms'));
      await Promise.all(made.splice(0).map((x) => x.kill()));

      // Claims as an agent makes them, one now and then: each on an idle host with the pool
      // full, so the first command shares the cores only with what its own claim sets off (the
      // pool's refill, which waits src/server/pools.ts CLAIM_REFILL_DELAY_MS).
      const spaced: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        await poolFull(s, pool);
        await new Promise((r) => setTimeout(r, IDLE_BEFORE_CLAIM_MS));
        const sbx = await Sandbox.create({ ...conn, template: TEMPLATE });
        made.push(sbx);
        spaced.push(await timeOnce(() => sbx.commands.run('true')));
      }
      ctx.report(percentileRow(`first command after a claim on an idle host (pool full, ${IDLE_BEFORE_CLAIM_MS / 1000} s idle before each claim)`, spaced, 50, 'ms', { name: 'exec `true` on a running sandbox', samples: exec }));
      await Promise.all(made.splice(0).map((x) => x.kill()));

      // The burst: every create at once, against a full pool.
      await poolFull(s, pool);
      const each: number[] = [];
      const wall = await timeOnce(() => Promise.all(Array.from({ length: BURST }, async () => {
        const t0 = performance.now();
        const sbx = await Sandbox.create({ ...conn, template: TEMPLATE });
        made.push(sbx);
        await sbx.commands.run('true');
        each.push(performance.now() - t0);
      })));
      const sequential = { name: 'one at a time', samples: whole };
      const burst = `burst of ${BURST} concurrent warm creates → first command done`;
      // p50, p99 and the slowest; under 100 samples the p99 row is the slowest already.
      for (const p of BURST >= 100 ? [50, 99, 100] : [50, 99]) ctx.report(percentileRow(burst, each, p, 'ms', sequential));
      ctx.report({ name: `burst of ${BURST}: wall-clock time until the last first command is done`, value: wall, n: BURST, unit: 'ms' });
    } finally {
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'DELETE' }).catch(() => undefined);
      await Promise.all(made.map((x) => x.kill().catch(() => undefined)));
      await s.stop();
    }
  },
};
export default suite;
