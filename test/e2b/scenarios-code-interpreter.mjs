// Code-interpreter scenarios for npm `@e2b/code-interpreter` (unchanged), run by
// conformance.test.ts like scenarios.mjs. The sandbox uses the SDK's default template
// (code-interpreter-v1). Prints one JSON line per scenario.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const req = createRequire(join(process.env.E2B_SDK_DIR, 'package.json'));
const { Sandbox } = await import(pathToFileURL(req.resolve('@e2b/code-interpreter')).href);
const check = (cond, msg) => { if (!cond) throw new Error(msg); };

const ctx = {};
const scenarios = [
  ['create code-interpreter-v1', async () => { ctx.sbx = await Sandbox.create({ timeoutMs: 300_000 }); }],
  ['runCode keeps state across calls', async () => {
    const out = [];
    await ctx.sbx.runCode('x = 41\nprint("set")', { onStdout: (m) => out.push(m) });
    check(out.length === 1 && out[0].line === 'set\n' && typeof out[0].timestamp === 'number', `stdout ${JSON.stringify(out)}`);
    const r = await ctx.sbx.runCode('x + 1');
    check(r.results.length === 1 && r.results[0].text === '42' && r.results[0].isMainResult, `result ${JSON.stringify(r.results)}`);
    check(r.executionCount >= 2, `execution count ${r.executionCount}`);
  }],
  ['runCode error has name, value and traceback', async () => {
    const r = await ctx.sbx.runCode('1/0');
    check(r.error && r.error.name === 'ZeroDivisionError' && /division by zero/.test(r.error.value) && r.error.traceback.length > 0, JSON.stringify(r.error));
  }],
  ['runCode returns a PNG chart', async () => {
    const r = await ctx.sbx.runCode('import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()');
    const png = r.results.find((x) => x.png);
    check(png, `no png in ${JSON.stringify(r.results.map((x) => Object.keys(x)))} error=${JSON.stringify(r.error)}`);
    check(Buffer.from(png.png, 'base64').subarray(1, 4).toString() === 'PNG', 'not a PNG');
  }],
  ['contexts and env vars', async () => {
    const c = await ctx.sbx.createCodeContext({ cwd: '/tmp' });
    const r = await ctx.sbx.runCode('import os\nos.getcwd()', { context: c });
    check(r.results[0]?.text === "'/tmp'", `cwd ${JSON.stringify(r.results)}`);
    const undefinedHere = await ctx.sbx.runCode('x', { context: c });
    check(undefinedHere.error?.name === 'NameError', 'contexts are separate kernels');
    const env = await ctx.sbx.runCode('os.environ.get("FOO")', { context: c, envs: { FOO: 'bar' } });
    check(env.results[0]?.text === "'bar'", `env ${JSON.stringify(env.results)}`);
    const after = await ctx.sbx.runCode('os.environ.get("FOO")', { context: c });
    check(after.results[0]?.text === undefined || after.results.length === 0, 'env reverted');
    if (ctx.sbx.listCodeContexts) check((await ctx.sbx.listCodeContexts()).some((x) => x.id === c.id), 'listed');
    if (ctx.sbx.removeCodeContext) await ctx.sbx.removeCodeContext(c);
  }],
];

for (const [name, run] of scenarios) {
  const t0 = Date.now();
  try {
    if (!ctx.sbx && !name.startsWith('create')) throw new Error('no sandbox (create failed)');
    await run();
    console.log(JSON.stringify({ name, ok: true, ms: Date.now() - t0 }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, ms: Date.now() - t0, error: String(err?.stack ?? err).slice(0, 2000) }));
  }
}
if (ctx.sbx) await ctx.sbx.kill().catch(() => undefined);
