/**
 * The OpenSandbox façade (issue 12): `Sandbox.create` through the official OpenSandbox SDK (npm
 * `@alibaba-group/opensandbox`, latest installed by scripts/opensandbox-sdks.sh) with
 * `extensions.poolRef` on a warm pool of `base`, beside the native SDK's create from the same
 * pool in the same run. Both sides claim from the pool, full before every create.
 *
 * Timed: create → first command done, as bench/e2b.bench.ts does: the SDK's create (the create,
 * the endpoint look-ups for execd (44772) and egress (18080), then its health check on execd's
 * /ping) and `commands.run('true')` through execd, beside the native SDK's create and the same
 * command. Also the create alone, with the SDK's three requests sent by plain fetch, beside the
 * native create alone: the façade's own share. The kill is not timed.
 */
import { Sandbox as NativeSandbox } from '../src/sdk/index.ts';
import { importJsSdk, openSandboxSdks } from '../test/opensandbox/fixture.ts';
import { startRealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, poolFull, timeOnce, type BenchSuite } from './harness.ts';

const N = 10;
const POOL = 2;
const TEMPLATE = 'base';

interface OsSandbox { id: string; kill(): Promise<void>; commands: { run(cmd: string): Promise<unknown> } }
interface OsSandboxClass { create(opts: Record<string, unknown>): Promise<OsSandbox> }

/** What the SDK's create sends with poolRef before its health check: the create, then the two endpoint look-ups. */
async function wireCreate(base: string, apiKey: string): Promise<{ id: string; kill(): Promise<void> }> {
  const headers = { 'OPEN-SANDBOX-API-KEY': apiKey, 'Content-Type': 'application/json' };
  const body = { image: { uri: TEMPLATE }, entrypoint: ['tail', '-f', '/dev/null'], resourceLimits: { cpu: '1', memory: '2Gi' }, env: {}, metadata: {}, extensions: { poolRef: TEMPLATE }, timeout: 600 };
  const created = await fetch(`${base}/sandboxes`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (created.status !== 202) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  for (const port of [44772, 18080]) await (await fetch(`${base}/sandboxes/${id}/endpoints/${port}`, { headers })).json();
  return { id, kill: async () => { await fetch(`${base}/sandboxes/${id}`, { method: 'DELETE', headers }); } };
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
      // SDK 0.1.11 insists on an image even with poolRef; the pool decides what starts.
      image: TEMPLATE, extensions: { poolRef: TEMPLATE },
    };
    const conn = { apiUrl: s.server.url, apiKey: s.server.adminKey };
    /**
     * One create at a time on a full pool, its kill and the refill waited for untimed: on 2 cores
     * a refill (a gVisor start) running beside the next create would time the machine's load,
     * not the path, and the slower side would pay more of it.
     */
    const claims = async (create: () => Promise<{ id: string; kill(): Promise<void> }>) => {
      const samples: number[] = [];
      for (let i = 0; i < N; i++) {
        await poolFull(s.api, TEMPLATE, POOL);
        let sbx: { id: string; kill(): Promise<void> } | undefined;
        samples.push(await timeOnce(async () => { sbx = await create(); }));
        // A cold start here would time something else than a claim.
        if (!(await (await s.api(`/v1/sandboxes/${sbx!.id}`)).json()).fromPool) throw new Error(`sandbox ${sbx!.id} was not claimed from the pool`);
        await sbx!.kill();
      }
      return samples;
    };
    try {
      await s.created.templates.ensure(TEMPLATE);
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'PUT', json: { size: POOL } });
      const viaOs = await claims(async () => { const sbx = await Os.create(osOpts); await sbx.commands.run('true'); return sbx; });
      const viaNative = await claims(async () => { const sbx = await NativeSandbox.create({ ...conn, template: TEMPLATE }); await sbx.commands.run('true'); return sbx; });
      // The façade's own share: the SDK's three create requests sent with plain fetch.
      const viaFetch = await claims(() => wireCreate(`${s.server.url}/opensandbox/v1`, s.server.adminKey));
      const nativeCreate = await claims(() => NativeSandbox.create({ ...conn, template: TEMPLATE }));
      await s.api(`/v1/pools/${TEMPLATE}`, { method: 'DELETE' });
      const native = { name: 'native SDK create → first command', samples: viaNative };
      const what = `create → first command done, poolRef (OpenSandbox SDK ${latest.version}, through execd)`;
      ctx.report(percentileRow(what, viaOs, 50, 'ms', native));
      ctx.report(percentileRow(what, viaOs, 99, 'ms', native));
      ctx.report(percentileRow('create alone: the SDK\'s three requests with plain fetch (the façade\'s share)', viaFetch, 50, 'ms', { name: 'native SDK create alone', samples: nativeCreate }));
    } finally {
      await s.stop();
    }
  },
};
export default suite;
