/**
 * The OpenSandbox façade (issue 12): `Sandbox.create` through the official OpenSandbox SDK (npm
 * `@alibaba-group/opensandbox`, latest installed by scripts/opensandbox-sdks.sh) with
 * `extensions.poolRef` on a warm pool of `base`, beside the native SDK's create from the same
 * pool in the same run. Both sides claim from the pool (refilled to full before each side).
 *
 * What is timed is create → ready as the SDK sees it: the create, then the endpoint look-ups for
 * execd (44772) and egress (18080) the SDK always makes. execd is not in the guest yet, so the
 * SDK's health check is skipped and no command runs; once execd lands, drop `skipHealthCheck`
 * and time `commands.run('true')` as bench/e2b.bench.ts does. The kill is not timed.
 */
import { Sandbox as NativeSandbox } from '../src/sdk/index.ts';
import { importJsSdk, openSandboxSdks } from '../test/opensandbox/fixture.ts';
import { startRealServer, type RealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, timeMany, type BenchSuite } from './harness.ts';

const N = 10;
const TEMPLATE = 'base';

interface OsSandbox { id: string; kill(): Promise<void> }
interface OsSandboxClass { create(opts: Record<string, unknown>): Promise<OsSandbox> }

async function poolFull(s: RealServer, size: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if ((await (await s.api(`/v1/pools/${TEMPLATE}`)).json()).ready >= size) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ${TEMPLATE} pool did not fill to ${size} in 2 min`);
}

const suite: BenchSuite = {
  name: 'OpenSandbox SDK (warm pool of base, poolRef)',
  async run(ctx) {
    const sdks = openSandboxSdks();
    if (typeof sdks === 'string') cannotRun('OpenSandbox', sdks);
    const latest = sdks.js.at(-1) ?? cannotRun('OpenSandbox', 'the SDK manifest names no npm release; run scripts/opensandbox-sdks.sh');
    const { Sandbox: Os } = (await importJsSdk(latest.dir)) as { Sandbox: OsSandboxClass };
    const s = await startRealServer('bench-opensandbox', { runtime: 'gvisor', wideSubnet: true });
    if (typeof s === 'string') cannotRun('OpenSandbox', s);
    const osOpts = {
      connectionConfig: { domain: `${s.server.url}/opensandbox`, apiKey: s.server.adminKey, disableMetrics: true },
      extensions: { poolRef: TEMPLATE }, skipHealthCheck: true,
    };
    const conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
    const kills: Promise<unknown>[] = [];
    try {
      await s.created.templates.ensure(TEMPLATE);
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'PUT', json: { size: N } });
      await poolFull(s, N);
      const viaOs = await timeMany(N, async () => {
        const sbx = await Os.create(osOpts);
        kills.push(sbx.kill());
      });
      await Promise.all(kills.splice(0));
      await poolFull(s, N);
      const viaNative = await timeMany(N, async () => {
        const sbx = await NativeSandbox.create({ ...conn, template: TEMPLATE });
        kills.push(sbx.kill());
      });
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'DELETE' });
      const native = { name: 'native SDK create', samples: viaNative };
      const what = `create → ready, poolRef (OpenSandbox SDK ${latest.version}, no execd health check)`;
      ctx.report(percentileRow(what, viaOs, 50, 'ms', native));
      ctx.report(percentileRow(what, viaOs, 99, 'ms', native));
    } finally {
      await Promise.all(kills);
      await s.stop();
    }
  },
};
export default suite;
