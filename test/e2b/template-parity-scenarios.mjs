// Template parity scenarios (issue 15, groups 8 and 9), run by test/e2b/template-parity.test.ts in
// a child process against one installed npm SDK (unchanged), configured only by the SDK's own
// environment variables. E2B_GROUP picks the group: `base` (npm `e2b` in E2B_SDK_DIR: the tools of
// E2B's base image, used as `user`) or `code-interpreter` (`@e2b/code-interpreter` in E2B_SDK_DIR:
// the libraries of E2B's code-interpreter image and plt.show()'s PNG and chart). Prints one JSON
// line per scenario: {name, ok, ms, error?}.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const group = process.env.E2B_GROUP;
const req = createRequire(join(process.env.E2B_SDK_DIR, 'package.json'));
const { Sandbox } = await import(pathToFileURL(req.resolve(group === 'base' ? 'e2b' : '@e2b/code-interpreter')).href);
const check = (cond, msg) => { if (!cond) throw new Error(msg); };
const eq = (a, b, msg) => check(a === b, `${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
/** CapEff of root in every sandbox (docs/security.md): sudo reaches that root and nothing more. */
const SANDBOX_ROOT_CAPS = '00000000000405fb';

const ctx = {};
/** Runs a shell line as the template's user (or `user`); its stdout, trimmed; a non-zero exit fails with its stderr. */
async function sh(cmd, user) {
  const r = await ctx.sbx.commands.run(cmd, user ? { user } : undefined).catch((e) => { throw new Error(`${cmd}: exit ${e.exitCode}: ${e.stderr ?? e.message}`); });
  return r.stdout.trim();
}
/** Runs Python in the code interpreter (of `sbx`, else the scenarios' sandbox); fails on a Python error. */
async function py(code, sbx = ctx.sbx) {
  const r = await sbx.runCode(code);
  check(!r.error, `${code}\n${r.error?.name}: ${r.error?.value}\n${r.error?.traceback}`);
  return r;
}
/** The one result of a figure shown by `code`: its PNG checked, its chart returned. */
async function shownChart(code) {
  const r = await py(`import matplotlib.pyplot as plt\n${code}\nplt.show()`);
  const shown = r.results.filter((x) => x.png);
  eq(shown.length, 1, 'results with a PNG');
  eq(Buffer.from(shown[0].png, 'base64').subarray(0, 8).toString('latin1'), '\x89PNG\r\n\x1a\n', 'PNG signature');
  check(shown[0].chart, `no chart beside the PNG: formats ${JSON.stringify(shown[0].formats?.())}`);
  return shown[0].chart;
}

const base = [
  ['create base', async () => { ctx.sbx = await Sandbox.create('base', { timeoutMs: 300_000 }); }],
  ['commands run as user in /home/user', async () => {
    eq(await sh('whoami'), 'user', 'whoami');
    eq(await sh('pwd'), '/home/user', 'pwd');
  }],
  ['sudo -n works without a password and reaches only the sandbox root', async () => {
    await sh('sudo -n true');
    eq(await sh('sudo -n id -u'), '0', 'uid under sudo');
    eq(await sh("sudo -n awk '/^CapEff/ {print $2}' /proc/self/status"), SANDBOX_ROOT_CAPS, 'capabilities under sudo');
    eq(await sh('sudo -n touch /etc/sudo-probe && stat -c %u /etc/sudo-probe'), '0', 'owner of a file sudo wrote in /etc');
  }],
  ['python and python3 are Python 3', async () => {
    eq(await sh("python -c 'import sys; print(sys.version_info[0])'"), '3', 'python');
    check(/^Python 3\.\d+/.test(await sh('python3 --version')), 'python3 --version');
  }],
  ['pip installs as user without a venv', async () => {
    check(/^pip \d+/.test(await sh('pip --version')), 'pip --version');
    await sh("mkdir -p /tmp/abx && cd /tmp/abx && echo 'ANSWER = 42' > abx.py && printf 'from setuptools import setup\\nsetup(name=\"abx\", version=\"1\", py_modules=[\"abx\"])\\n' > setup.py");
    await sh('cd /tmp/abx && pip install --no-index --no-build-isolation --quiet . 2>&1');
    eq(await sh("cd / && python -c 'import abx; print(abx.ANSWER, abx.__file__.startswith(\"/home/user/.local/\"))'"), '42 True', 'installed module');
  }],
  ['node and npm run', async () => {
    eq(await sh("node -e 'console.log(6 * 7)'"), '42', 'node -e');
    check(/^\d+\.\d+\.\d+$/.test(await sh('npm --version')), 'npm --version');
  }],
  // commands.run is `bash -l -c`, so the profile runs before every command, and each process it
  // starts costs milliseconds under gVisor (templates/base.yaml).
  ['a login shell starts no process before the command, and takes its PATH from /etc/profile', async () => {
    for (const [user, pathPart] of [['user', '/usr/local/games'], ['root', '/usr/local/sbin']]) {
      // gVisor hands out PIDs in order, so the command's first child comes right after the shell
      // unless the profile started something. A thread of the guest may take a PID meanwhile,
      // which a profile that starts a process cannot get around three times: the least gap counts.
      const gaps = [];
      for (let i = 0; i < 3; i++) {
        const [shell, child, path] = (await sh(`echo $$; sh -c 'echo $$'; echo "$PATH"`, user)).split('\n');
        check(path.split(':').includes(pathPart), `${user}'s PATH lacks ${pathPart}, so /etc/profile took the wrong branch: ${path}`);
        gaps.push(Number(child) - Number(shell));
      }
      eq(Math.min(...gaps), 1, `PIDs from ${user}'s login shell to its first child (${gaps.join(', ')})`);
    }
  }],
  ['git, curl and the everyday tools are there', async () => {
    check(/^git version \d/.test(await sh('git --version')), 'git --version');
    check(/^curl \d/.test(await sh('curl --version')), 'curl --version');
    await sh('for t in wget jq unzip zip less file ssh vi xz bzip2 gcc g++ make; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done');
    await sh('cd /tmp && git init -q repo && cd repo && git -c user.name=u -c user.email=u@x commit -q --allow-empty -m first && git log --oneline | grep -q first');
  }],
];

const codeInterpreter = [
  ['create code-interpreter-v1', async () => { ctx.sbx = await Sandbox.create({ timeoutMs: 300_000 }); }],
  // The test made the template's golden snapshot first, so both sandboxes start from the memory of
  // one kernel: each must reseed it (server.py) before running code.
  ['two sandboxes draw different random numbers', async () => {
    const other = await Sandbox.create({ timeoutMs: 300_000 });
    try {
      const draw = async (sbx) => (await py('import random; random.getrandbits(64)', sbx)).results[0]?.text;
      const [a, b] = [await draw(ctx.sbx), await draw(other)];
      check(a && b && a !== b, `one draw in both sandboxes: ${a} and ${b}`);
    } finally {
      await other.kill().catch(() => undefined);
    }
  }],
  // Also a restored copy: its server and kernel started in the golden builder, before any create,
  // and read the sandbox's env from the guest before the first code (server.py).
  ["a create's envs reach the kernel, in a sandbox whose server started before the create", async () => {
    const sbx = await Sandbox.create({ envs: { AGENTBOX_CREATE_ENV: 'from-create' }, timeoutMs: 300_000 });
    try {
      eq((await py('import os; os.environ.get("AGENTBOX_CREATE_ENV")', sbx)).results[0]?.text, "'from-create'", 'the kernel sees the env');
      const [startedOn, host] = (await sbx.commands.run('cat /tmp/.code-interpreter-ready; echo; hostname')).stdout.trim().split('\n');
      check(startedOn && startedOn !== host, `the server started on ${startedOn}, the sandbox is ${host}: booted, not restored`);
      const ctx2 = await sbx.createCodeContext();
      eq((await sbx.runCode('import os; os.environ.get("AGENTBOX_CREATE_ENV")', { context: ctx2 })).results[0]?.text, "'from-create'", 'a new context sees it too');
    } finally {
      await sbx.kill().catch(() => undefined);
    }
  }],
  ['a sandbox made from a snapshot keeps the random state its kernel was seeded with', async () => {
    await py('import random; random.seed(7)');
    const snap = await ctx.sbx.createSnapshot();
    const copy = await Sandbox.create(snap.snapshotId, { timeoutMs: 300_000 });
    try {
      const draw = async (sbx) => (await py('random.getrandbits(64)', sbx)).results[0]?.text;
      const [a, b] = [await draw(ctx.sbx), await draw(copy)];
      check(a && a === b, `the seeded kernel drew ${a}, its copy ${b}`);
    } finally {
      await copy.kill().catch(() => undefined);
      await Sandbox.deleteSnapshot(snap.snapshotId).catch(() => undefined);
    }
  }],
  ["E2B image's libraries import", async () => {
    const r = await py('import pandas, numpy, scipy, seaborn, sklearn, matplotlib, requests, openpyxl, bs4, sympy, plotly, xlrd, docx, PIL, aiohttp, nltk, xarray\n'
      + 'import pandas as pd\npd.DataFrame({"a": [1, 2, 3]}).a.sum()');
    eq(r.results[0]?.text, '6', 'pandas sum');
  }],
  ['scikit-learn and scipy compute', async () => {
    const r = await py('from sklearn.linear_model import LinearRegression\nfrom scipy import stats\n'
      + 'm = LinearRegression().fit([[1], [2], [3]], [2, 4, 6])\nround(float(m.coef_[0]), 3), round(float(stats.norm.cdf(0)), 3)');
    eq(r.results[0]?.text, '(2.0, 0.5)', 'coefficient and cdf');
  }],
  ['plt.show() of a line chart returns its PNG and chart', async () => {
    const chart = await shownChart('plt.plot([1, 2, 3], [1, 4, 9], label="squares")\nplt.title("Squares")\nplt.xlabel("n")\nplt.ylabel("Area (m2)")\nplt.legend()');
    eq(chart.type, 'line', 'type');
    eq(chart.title, 'Squares', 'title');
    eq(chart.x_label, 'n', 'x_label');
    eq(chart.y_unit, 'm2', 'y_unit');
    eq(chart.x_scale, 'linear', 'x_scale');
    eq(chart.elements[0].label, 'squares', 'label');
    eq(JSON.stringify(chart.elements[0].points), '[[1,1],[2,4],[3,9]]', 'points');
    check(chart.x_ticks.length > 0 && chart.x_ticks.length === chart.x_tick_labels.length, `ticks ${JSON.stringify(chart.x_ticks)} ${JSON.stringify(chart.x_tick_labels)}`);
  }],
  ['bar, pie and several axes come back as E2B chart types', async () => {
    const bar = await shownChart('plt.bar(["A", "B"], [3, 5], label="sales")');
    eq(bar.type, 'bar', 'bar type');
    eq(JSON.stringify(bar.elements.map((e) => [e.label, Number(e.value), e.group])), '[["A",3,"sales"],["B",5,"sales"]]', 'bars');
    const pie = await shownChart('plt.pie([1, 3], labels=["x", "y"])');
    eq(pie.type, 'pie', 'pie type');
    eq(JSON.stringify(pie.elements.map((e) => [e.label, Math.round(e.angle)])), '[["x",90],["y",270]]', 'slices');
    const sup = await shownChart('fig, (a, b) = plt.subplots(1, 2)\nfig.suptitle("Two")\na.plot([0, 1], [1, 0])\nb.scatter([1, 2], [3, 4])');
    eq(sup.type, 'superchart', 'superchart type');
    eq(sup.title, 'Two', 'superchart title');
    eq(JSON.stringify(sup.elements.map((e) => e.type)), '["line","scatter"]', 'superchart elements');
  }],
  ['a seaborn plot is shown as a PNG', async () => {
    await shownChart('import seaborn as sns\nsns.histplot([1, 2, 2, 3, 3, 3])');
  }],
];

const scenarios = group === 'base' ? base : codeInterpreter;
for (const [name, run] of scenarios) {
  const t0 = Date.now();
  const outcome = await (ctx.sbx || name.startsWith('create') ? run() : Promise.reject(new Error('no sandbox (create failed)')))
    .then(() => ({}), (err) => ({ error: String(err?.stack ?? err).slice(0, 2000) }));
  console.log(JSON.stringify({ name, ok: !outcome.error, ms: Date.now() - t0, ...outcome }));
}
if (ctx.sbx) await ctx.sbx.kill().catch(() => undefined);
