/**
 * A template with a start command, built by the official E2B SDK's `Template` builder (npm `e2b`,
 * latest) through agentbox's E2B template API: a Python HTTP server that the ready command waits
 * for. As on E2B, the start command runs once, at the end of the build, and creates restore the
 * template's golden snapshot with the server running (src/gateway/e2b/template-build/recipe.ts
 * sets `start.goldenSnapshot`, and src/server/engine-catalog.ts makes the snapshot before the
 * build is kept).
 * Same-run baseline: the same start and ready commands in a recipe without the flag, built through
 * the native API, whose every create boots and waits for the server (what E2B-built templates did
 * before). Both sides create through the E2B SDK and time `Sandbox.create` to the first
 * `commands.run` that reaches the server; the kill is not timed.
 */
import { loadLatestE2b, sdkManifest } from '../test/e2b/fixture.ts';
import { goldenKeys } from '../test/support/golden.ts';
import { startRealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, timeOnce, type BenchSuite } from './harness.ts';

const N = 5;
const RUN = Date.now().toString(36);
const START = 'python3 -m http.server 8000 --bind 127.0.0.1';
/** Port 8000 (0x1F40) listening: read from /proc, so the check starts no interpreter. */
const READY = "grep -q ':1F40 ' /proc/net/tcp";
/** The first command: a request to the server the start command runs. */
const PROBE = 'exec 3<>/dev/tcp/127.0.0.1/8000 && printf "HEAD / HTTP/1.0\\r\\n\\r\\n" >&3 && head -c 12 <&3';

interface E2bSandbox { commands: { run(cmd: string): Promise<{ stdout: string }> }; kill(): Promise<void> }
interface E2bSdk {
  Sandbox: { create(template: string, opts: Record<string, unknown>): Promise<E2bSandbox> };
  Template: ((opts?: unknown) => { fromTemplate(name: string): { setStartCmd(cmd: string, ready: string): unknown } }) & { build(t: unknown, opts: Record<string, unknown>): Promise<unknown> };
}

const suite: BenchSuite = {
  name: 'E2B template with a start command (built through the E2B template API, no pool)',
  async run(ctx) {
    const manifest = sdkManifest();
    if (typeof manifest === 'string') cannotRun('E2B template start', manifest);
    const latest = await loadLatestE2b<E2bSdk>(manifest);
    if (typeof latest === 'string') cannotRun('E2B template start', latest);
    const { Sandbox, Template } = latest.sdk;
    const s = await startRealServer('bench-template-start', { runtime: 'gvisor' });
    if (typeof s === 'string') cannotRun('E2B template start', s);
    const opts = { apiKey: s.server.adminKey, apiUrl: `${s.server.url}/e2b`, sandboxUrl: `${s.server.url}/e2b/sandbox`, timeoutMs: 300_000 };
    try {
      await s.created.templates.ensure('base');
      const viaE2b = `bench-start-${RUN}`;
      const kinds = goldenKeys(s.created.home).length;
      const buildMs = await timeOnce(() => Template.build(Template().fromTemplate('base').setStartCmd(START, READY), { ...opts, alias: viaE2b }));
      if (goldenKeys(s.created.home).length <= kinds) throw new Error(`the build of ${viaE2b} made no golden snapshot`);
      const booting = `bench-start-boot-${RUN}`;
      const res = await s.api('/v1/templates', { method: 'POST', json: {
        name: booting, from: { template: 'base' }, user: 'user', workdir: '/home/user',
        start: { cmd: ['/bin/sh', '-c', START], user: 'user' }, ready: { cmd: ['/bin/sh', '-c', READY], timeoutMs: 120_000 },
      } });
      if (res.status !== 201) throw new Error(`building ${booting}: ${res.status} ${await res.text()}`);

      const creates = async (template: string, n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          let sbx: E2bSandbox | undefined;
          out.push(await timeOnce(async () => {
            sbx = await Sandbox.create(template, opts);
            const r = await sbx.commands.run(PROBE);
            if (!r.stdout.startsWith('HTTP/1.0 200')) throw new Error(`the server answered ${JSON.stringify(r.stdout)}`);
          }));
          await sbx!.kill();
        }
        return out;
      };
      const booted = await creates(booting, N);
      // From the first create on: the build made the snapshot.
      const restored = await creates(viaE2b, N);
      const boot = { name: 'the same start and ready commands without the golden snapshot: every create boots and waits for the server', samples: booted };
      ctx.report(percentileRow('Sandbox.create → first command answered by the start command\'s server, restoring it running (first create included)', restored, 50, 'ms', boot));
      ctx.report(percentileRow('Template.build through the E2B SDK, the start command, ready check and snapshot included', [buildMs], 50, 'ms'));
    } finally {
      await s.stop();
    }
  },
};
export default suite;
