// E2B template builds through the SDK's own `Template` builder, run by test/e2b/template-build.test.ts
// in a child process against one installed npm `e2b` version (unchanged), configured only by the
// SDK's environment variables. E2B_OTHER_API_KEY is another tenant's key (isolation checks);
// TB_PREFIX makes template names unique per run. Prints one JSON line per scenario: {name, ok,
// error?, ms, skip?}. `Template` arrived in SDK 2.7 among the claimed lines (2.0.x has none).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const req = createRequire(join(process.env.E2B_SDK_DIR, 'package.json'));
const e2b = await import(pathToFileURL(req.resolve('e2b')).href);
const { Sandbox, Template, waitForPort } = e2b;
const version = (process.env.E2B_SDK_VERSION ?? '0.0.0').split('.').map(Number);
const prefix = process.env.TB_PREFIX;
const other = { apiKey: process.env.E2B_OTHER_API_KEY };

const check = (cond, msg) => { if (!cond) throw new Error(msg); };
const eq = (a, b, msg) => check(a === b, `${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
const rejects = async (p, what) => {
  const err = await p.then(() => undefined, (e) => e);
  check(err, `${what} succeeded`);
  return err;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The build context: a text file, a binary file and a directory, as a project would have.
const context = mkdtempSync(join(tmpdir(), 'tb-context-'));
writeFileSync(join(context, 'hello.txt'), 'hello from the host\n');
writeFileSync(join(context, 'blob.bin'), Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0]));
mkdirSync(join(context, 'conf'));
writeFileSync(join(context, 'conf', 'a.cfg'), 'a=1\n');

const ctx = { name: `${prefix}-app` };

/** Polls a build until it ends (the SDK's own waitForBuildFinish polls the same way). */
async function waitForBuild(info, onStatus = () => {}) {
  for (let i = 0; i < 3000; i++) {
    const status = await Template.getBuildStatus(info, {});
    onStatus(status);
    if (status.status !== 'building' && status.status !== 'waiting') return status;
    await sleep(200);
  }
  throw new Error('the build did not end');
}
const build = (template, name, opts = {}) => Template.build(template, { alias: name, ...opts });

const scenarios = [
  ['Template.build from base: COPY, ENV, RUN, WORKDIR, USER, start and ready commands', async () => {
    const template = Template({ fileContextPath: context })
      .fromTemplate('base')
      .copy('hello.txt', '/home/user/app/hello.txt')
      .copy('blob.bin', '/home/user/app/', { mode: 0o600 })
      .copy('conf', '/etc/myapp', { user: 'root' })
      .setEnvs({ GREETING: 'hi there' })
      .setWorkdir('/home/user/app')
      .runCmd(`echo "$GREETING" > greeting.txt && whoami > who.txt && pwd > where.txt && echo build-output-marker-${prefix}`)
      .runCmd('echo from-root > /opt/root.txt', { user: 'root' })
      .setStartCmd('echo started-by-template > /tmp/started.txt; sleep infinity', 'test -f /tmp/started.txt');
    const logs = [];
    const info = await build(template, ctx.name, { onBuildLogs: (e) => logs.push(e) });
    eq(info.templateId, ctx.name, 'templateId');
    check(logs.some((e) => String(e.message).includes(`build-output-marker-${prefix}`)), `the RUN output is in the build logs: ${JSON.stringify(logs.map((e) => e.message))}`);
    const sbx = await Sandbox.create(ctx.name, { timeoutMs: 120_000 });
    try {
      eq(await sbx.files.read('/home/user/app/hello.txt'), 'hello from the host\n', 'copied file');
      const blob = Buffer.from(await sbx.files.read('/home/user/app/blob.bin', { format: 'bytes' }));
      eq(blob.toString('hex'), '000102fffe0a0d00', 'copied binary file, byte for byte');
      eq(await sbx.files.read('/etc/myapp/a.cfg'), 'a=1\n', 'copied directory');
      const r = await sbx.commands.run('echo "$GREETING"; cat greeting.txt who.txt where.txt /opt/root.txt /tmp/started.txt; pwd; whoami; stat -c "%U %a" hello.txt blob.bin /etc/myapp/a.cfg; test ! -e /.agentbox-e2b-copy && echo no-stage');
      eq(r.stdout, 'hi there\nhi there\nuser\n/home/user/app\nfrom-root\nstarted-by-template\n/home/user/app\nuser\nuser 644\nuser 600\nroot 644\nno-stage\n', 'env, workdir, user, RUN results, start command, owners and modes');
    } finally {
      await sbx.kill();
    }
  }],
  ['a start command that serves a port, with the SDK\'s waitForPort ready helper', async () => {
    // waitForPort runs `ss` in the sandbox (`ss -tuln | grep :PORT` in 2.7, `ss -Htuln sport = :PORT`
    // later): base must have it, or the build waits out the ready check and fails.
    const name = `${prefix}-port`;
    await build(Template().fromTemplate('base').setStartCmd('cd /tmp && echo served-by-start > index.txt && python3 -m http.server 8000', waitForPort(8000)), name);
    const sbx = await Sandbox.create(name, { timeoutMs: 120_000 });
    try {
      const r = await sbx.commands.run('curl -sS http://127.0.0.1:8000/index.txt');
      eq(r.stdout, 'served-by-start\n', 'the start command\'s server answers on the port waitForPort waited for');
      const closed = await sbx.commands.run('[ -z "$(ss -Htuln sport = :8001)" ] && echo port-8001-not-listening');
      eq(closed.stdout, 'port-8001-not-listening\n', 'ss reports no listener on a port nothing serves');
    } finally {
      await sbx.kill();
    }
  }],
  ['buildInBackground and getBuildStatus: status and logs by offset', async () => {
    const template = Template().fromTemplate(ctx.name).runCmd(`echo second-build-marker-${prefix}`);
    const info = await Template.buildInBackground(template, { alias: `${prefix}-bg` });
    const seen = [];
    let offset = 0;
    let status;
    for (let i = 0; i < 3000; i++) {
      status = await Template.getBuildStatus(info, { logsOffset: offset });
      offset += status.logEntries.length;
      seen.push(...status.logEntries.map((e) => e.message));
      if (status.status === 'ready' || status.status === 'error') break;
      await sleep(200);
    }
    eq(status.status, 'ready', `build status (reason ${JSON.stringify(status.reason)})`);
    check(seen.some((m) => m.includes(`second-build-marker-${prefix}`)), `logs ${JSON.stringify(seen)}`);
    const again = await Template.getBuildStatus(info, { logsOffset: offset });
    eq(again.logEntries.length, 0, 'nothing past the offset');
  }],
  ['a failing RUN: status error naming the step, with the reason', async () => {
    const template = Template().fromTemplate('base').runCmd('echo fine').runCmd('echo boom-on-stderr >&2; exit 7');
    const err = await rejects(build(template, `${prefix}-fail`), 'a failing build');
    check(/exit 7/.test(err.message) && /boom-on-stderr/.test(err.message), `BuildError message: ${err.message}`);
    const info = await Template.buildInBackground(template, { alias: `${prefix}-fail` });
    const status = await waitForBuild(info);
    eq(status.status, 'error', 'status');
    eq(status.reason?.step, '2', 'reason.step (the second instruction)');
    check(/exit 7/.test(status.reason?.message ?? ''), `reason ${JSON.stringify(status.reason)}`);
  }],
  ['fromTemplate of an image imported as a docker-save archive (native API), then Sandbox.create', async () => {
    const name = `${prefix}-on-import`;
    await build(Template().fromTemplate(process.env.TB_IMPORTED).setUser('root').setWorkdir('/srv').runCmd(`echo on-import-${prefix} > marker.txt`), name);
    const sbx = await Sandbox.create(name, { timeoutMs: 120_000 });
    try {
      // Through files: the SDK runs commands with /bin/bash, which a busybox image does not have.
      eq(await sbx.files.read('/srv/marker.txt'), `on-import-${prefix}\n`, 'what the RUN wrote in the workdir');
      eq(await sbx.files.exists('/usr/bin/python3'), false, 'the image is the imported busybox, not base');
      eq(await sbx.files.exists('/bin/busybox'), true, 'the imported image has its busybox');
    } finally {
      await sbx.kill();
    }
  }],
  ['bad requests are refused with a clear error', async () => {
    const pulled = await rejects(build(Template().fromImage('python:3.12').runCmd('true'), `${prefix}-py`), 'a registry image');
    check(/cannot be pulled/.test(pulled.message) && /agentbox template import/.test(pulled.message), `registry image: ${pulled.message}`);
    const creds = await rejects(build(Template().fromImage('ghcr.io/acme/app:1', { username: 'u', password: 'p' }), `${prefix}-creds`), 'registry credentials');
    check(/credentials/.test(creds.message) && /not supported/.test(creds.message), `credentials: ${creds.message}`);
    const name = await rejects(build(Template().fromTemplate('base'), 'Not A Name'), 'a bad name');
    check(/invalid/.test(name.message), `bad name: ${name.message}`);
    const parent = await rejects(build(Template().fromTemplate(`${prefix}-no-such-parent`).runCmd('true'), `${prefix}-orphan`), 'a missing parent');
    check(/does not exist/.test(parent.message), `missing parent: ${parent.message}`);
    if (!Template.exists) return; // Template.exists arrived after 2.7 (GET /templates/aliases/{alias})
    eq(await Template.exists(`${prefix}-never-built`), false, 'exists() of an unknown name');
    eq(await Template.exists(ctx.name), true, 'exists() of the built template');
  }],
  ['tenant isolation: another tenant neither sees nor uses nor overwrites the template', async () => {
    if (Template.exists) eq(await Template.exists(ctx.name, other), false, "another tenant's exists()");
    await rejects(Sandbox.create(ctx.name, { ...other, timeoutMs: 60_000 }), "another tenant's create from the template");
    const info = await Template.buildInBackground(Template().fromTemplate('base').runCmd('true'), { alias: `${prefix}-mine` });
    await rejects(Template.getBuildStatus(info, other), "another tenant's getBuildStatus");
    eq((await waitForBuild(info)).status, 'ready', 'the owner still sees its build');
    const pub = await rejects(build(Template().fromTemplate('base').runCmd('true'), 'base', other), 'a tenant building over the public base');
    check(/public template/.test(pub.message), `public name: ${pub.message}`);
  }],
];

for (const [name, fn] of scenarios) {
  const t0 = Date.now();
  try {
    if (version[0] === 2 && version[1] < 7) {
      console.log(JSON.stringify({ name, ok: true, ms: 0, skip: 'Template arrived in SDK 2.7 (the oldest claimed line that has it)' }));
      continue;
    }
    await fn();
    console.log(JSON.stringify({ name, ok: true, ms: Date.now() - t0 }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, ms: Date.now() - t0, error: `${err?.name}: ${err?.message}\n${err?.stack ?? ''}` }));
  }
}
