/**
 * E2B's code interpreter (`@e2b/code-interpreter`, template `code-interpreter-v1`, gVisor, no
 * pool): `Sandbox.create` to the first `runCode` result, restoring the template's golden snapshot
 * with its server and kernel running (the template's `start.goldenSnapshot`), beside the
 * template's first create, which boots them; the same with `envs`, which the kernel reads from the
 * guest before its first code; and `runCode` on a running sandbox beside `commands.run('true')` on
 * the same one.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sdkManifest } from '../test/e2b/fixture.ts';
import { goldenKeys, untilNoGoldenBuild } from '../test/support/golden.ts';
import { startRealServer } from '../test/support/real-server.ts';
import { cannotRun, percentileRow, timeMany, timeOnce, type BenchSuite } from './harness.ts';

const TEMPLATE = 'code-interpreter-v1';
/** Creates of each kind; a boot starts Python and Jupyter for seconds, so few. */
const N = 5;
const STEADY = 20;

interface Execution { results: { text?: string }[]; error?: { name: string; value: string } }
interface CiSandbox { runCode(code: string): Promise<Execution>; commands: { run(cmd: string): Promise<unknown> }; kill(): Promise<void> }
interface CiSandboxClass { create(template: string, opts: Record<string, unknown>): Promise<CiSandbox> }

const suite: BenchSuite = {
  name: `E2B code interpreter (${TEMPLATE}, no pool)`,
  async run(ctx) {
    const manifest = sdkManifest();
    if (typeof manifest === 'string') cannotRun('code interpreter', manifest);
    const req = createRequire(join(manifest.codeInterpreter.dir, 'package.json'));
    const { Sandbox } = (await import(pathToFileURL(req.resolve('@e2b/code-interpreter')).href)) as { Sandbox: CiSandboxClass };
    const s = await startRealServer('bench-code-interpreter', { runtime: 'gvisor' });
    if (typeof s === 'string') cannotRun('code interpreter', s);
    const opts = { apiKey: s.server.adminKey, apiUrl: `${s.server.url}/e2b`, sandboxUrl: `${s.server.url}/e2b/sandbox`, timeoutMs: 300_000 };
    try {
      await s.created.templates.ensure(TEMPLATE, (e) => ctx.log(`${TEMPLATE}: ${e.message}`));
      const runs = async (createOpts: Record<string, unknown>, n = N, code = '1+1', expected = '2') => {
        const creates: number[] = [];
        const firsts: number[] = [];
        for (let i = 0; i < n; i++) {
          let sbx: CiSandbox | undefined;
          creates.push(await timeOnce(async () => { sbx = await Sandbox.create(TEMPLATE, { ...opts, ...createOpts }); }));
          firsts.push(await timeOnce(async () => {
            const r = await sbx!.runCode(code);
            if (r.results[0]?.text !== expected) throw new Error(`runCode(${JSON.stringify(code)}) gave ${JSON.stringify(r)}`);
          }));
          await sbx!.kill();
        }
        return { creates, firsts, whole: creates.map((c, i) => c + firsts[i]!) };
      };
      // The first create boots and makes the golden snapshot, off its path (the snapshot's
      // builder boots beside it: the two share the cores).
      const kinds = goldenKeys(s.created.home).length;
      const booted = await runs({}, 1);
      await untilNoGoldenBuild(s.created.home);
      if (goldenKeys(s.created.home).length <= kinds) throw new Error(`no golden snapshot of ${TEMPLATE} was made`);
      const restored = await runs({});
      const withEnvs = await runs({ envs: { BENCH: '1' } }, N, `import os; str(1 + int(os.environ["BENCH"]))`, "'2'");
      const boot = (samples: number[]) => ({ name: 'the template\'s first create, booting its server and kernel', samples });
      ctx.report(percentileRow('Sandbox.create → first runCode done, restoring the golden snapshot', restored.whole, 50, 'ms', boot(booted.whole)));
      ctx.report(percentileRow('of which Sandbox.create', restored.creates, 50, 'ms', boot(booted.creates)));
      ctx.report(percentileRow('of which the first runCode', restored.firsts, 50, 'ms', boot(booted.firsts)));
      const without = { name: 'without envs', samples: restored.whole };
      ctx.report(percentileRow('the same with envs (restored; the kernel reads them from the guest before its first code)', withEnvs.whole, 50, 'ms', without));

      const sbx = await Sandbox.create(TEMPLATE, opts);
      try {
        await sbx.runCode('1+1');
        const commands = await timeMany(STEADY, () => sbx.commands.run('true'));
        const code = await timeMany(STEADY, () => sbx.runCode('1+1'));
        ctx.report(percentileRow("runCode('1+1') on a running sandbox", code, 50, 'ms', { name: "commands.run('true') on the same sandbox", samples: commands }));
      } finally {
        await sbx.kill();
      }
    } finally {
      await s.stop();
    }
  },
};
export default suite;
