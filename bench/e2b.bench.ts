/**
 * The E2B façade (issue 4): `Sandbox.create` to the first `commands.run` result through the
 * official E2B SDK (npm `e2b`, latest installed by scripts/e2b-sdks.sh), with a warm pool of
 * `base`, beside two same-run baselines:
 * - its own parts (issue #13's goal, ≤ 2.5×): the warm claim alone plus one `commands.run` of
 *   `true` on a sandbox that has run commands already, both through the E2B SDK;
 * - the same create → first command through agentbox's native SDK.
 * Both sides claim from the same pool (refilled to full before each side) and run `true`; the
 * kill is not timed.
 */
import { Sandbox as NativeSandbox } from '../src/sdk/index.ts';
import { loadLatestE2b, sdkManifest } from '../test/e2b/fixture.ts';
import { startRealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, poolFull, stat, timeMany, timeOnce, type BenchSuite } from './harness.ts';

const N = 10;
/** Commands timed on a sandbox that has run commands already (the steady exec of the baseline). */
const STEADY = 30;
const TEMPLATE = 'base';

interface E2bSandbox { sandboxId: string; commands: { run(cmd: string): Promise<{ exitCode: number }> }; kill(): Promise<void> }
interface E2bSandboxClass { create(template: string, opts: Record<string, unknown>): Promise<E2bSandbox> }

const suite: BenchSuite = {
  name: 'E2B SDK (warm pool of base)',
  async run(ctx) {
    const manifest = sdkManifest();
    if (typeof manifest === 'string') cannotRun('E2B', manifest);
    const latest = await loadLatestE2b<{ Sandbox: E2bSandboxClass }>(manifest);
    if (typeof latest === 'string') cannotRun('E2B', latest);
    const E2b = latest.sdk.Sandbox;
    const s = await startRealServer('bench-e2b', { runtime: 'gvisor', wideSubnet: true });
    if (typeof s === 'string') cannotRun('E2B', s);
    const e2bOpts = { apiKey: s.server.adminKey, apiUrl: `${s.server.url}/e2b`, sandboxUrl: `${s.server.url}/e2b/sandbox` };
    const conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
    const kills: Promise<unknown>[] = [];
    try {
      await s.created.templates.ensure(TEMPLATE);
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'PUT', json: { size: N } });
      await poolFull(s.api, TEMPLATE, N);
      const claims: number[] = [];
      const firsts: number[] = [];
      let running: E2bSandbox | undefined;
      const viaE2b = await timeMany(N, async () => {
        let sbx: E2bSandbox | undefined;
        claims.push(await timeOnce(async () => { sbx = await E2b.create(TEMPLATE, e2bOpts); }));
        firsts.push(await timeOnce(async () => {
          if ((await sbx!.commands.run('true')).exitCode !== 0) throw new Error('true failed');
        }));
        if (running) kills.push(sbx!.kill());
        else running = sbx;
      });
      await Promise.all(kills.splice(0));
      // Timed once the pool has refilled, as the native side's creates are: a steady exec, not
      // one sharing the 2 cores with ten sandboxes starting.
      await poolFull(s.api, TEMPLATE, N);
      const steady = await timeMany(STEADY, () => running!.commands.run('true'));
      await running!.kill();
      const viaNative = await timeMany(N, async () => {
        const sbx = await NativeSandbox.create({ ...conn, template: TEMPLATE });
        await sbx.commands.run('true');
        kills.push(sbx.kill());
      });
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'DELETE' });
      const native = { name: 'native SDK', samples: viaNative };
      const claim = stat(claims, 50);
      const exec = stat(steady, 50);
      const parts = `computed: warm claim p50 of ${claim.n} (${claim.value.toFixed(1)} ms) + commands.run \`true\` on a running sandbox p50 of ${exec.n} (${exec.value.toFixed(1)} ms), both through the E2B SDK`;
      ctx.report({ ...percentileRow(`create → first commands.run (E2B SDK ${latest.version})`, viaE2b, 50, 'ms'), baseline: { name: parts, value: claim.value + exec.value }, target: '≤ 2.5×' });
      ctx.report(percentileRow('of which the first commands.run', firsts, 50, 'ms', { name: 'commands.run `true` on a running sandbox', samples: steady }));
      ctx.report(percentileRow('of which the warm claim (Sandbox.create)', claims, 50, 'ms'));
      ctx.report(percentileRow(`create → first commands.run (E2B SDK ${latest.version})`, viaE2b, 50, 'ms', native));
      ctx.report(percentileRow(`create → first commands.run (E2B SDK ${latest.version})`, viaE2b, 99, 'ms', native));
    } finally {
      await Promise.all(kills);
      await s.stop();
    }
  },
};
export default suite;
