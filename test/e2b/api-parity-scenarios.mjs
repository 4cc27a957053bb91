// E2B control-API and sandbox-traffic parity scenarios (issue 15, groups 2, 4, 5, 7, 10 and MCP),
// run by test/e2b/api-parity.test.ts in a child process against one installed version of the npm
// `e2b` SDK (unchanged), configured only by the SDK's own environment variables. Prints one JSON
// line per scenario: {name, ok, error?, ms, skip?}; a scenario for an API newer than the SDK
// reports a skip saying `arrived in SDK <major>.<minor>` (held against the version by the test).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { atLeast, check, eq, listAll as listAllOf, poll } from './scenario-kit.mjs';

const sdkDir = process.env.E2B_SDK_DIR;
const req = createRequire(join(sdkDir, 'package.json'));
const { Sandbox } = await import(pathToFileURL(req.resolve('e2b')).href);

// The control API as the SDK reaches it, for requests the SDK cannot make (bad values).
const apiUrl = process.env.E2B_API_URL ?? `https://api.${process.env.E2B_DOMAIN}`;
const api = (path) => fetch(`${apiUrl}${path}`, { headers: { 'X-API-KEY': process.env.E2B_API_KEY } });
const listAll = (query) => listAllOf(Sandbox, query);
const WAIT_MS = 30_000;

const ctx = { tag: `parity${Date.now()}` };
const create = (opts = {}) => Sandbox.create('base', { timeoutMs: 300_000, metadata: { suite: 'api-parity', tag: ctx.tag }, ...opts });

const scenarios = [
  ['create', async () => {
    ctx.sbx = await create();
    await ctx.sbx.files.write('hello.txt', 'hello world');
  }],

  // Group 2: the URL is fetched by a plain client, with no E2B header.
  ['signed download and upload URLs work from a plain HTTP client', async () => {
    const down = await fetch(await ctx.sbx.downloadUrl('hello.txt'));
    eq(down.status, 200, 'download status');
    eq(await down.text(), 'hello world', 'downloaded body');
    const form = new FormData();
    form.append('file', new Blob(['uploaded']), 'up.txt');
    const up = await fetch(await ctx.sbx.uploadUrl('up.txt'), { method: 'POST', body: form });
    eq(up.status, 200, `upload status (${await up.clone().text()})`);
    eq(await ctx.sbx.files.read('up.txt'), 'uploaded', 'uploaded file');
  }],
  ['signed URLs expire, and a wrong signature is refused without naming a sandbox', async () => {
    const valid = await fetch(await ctx.sbx.downloadUrl('hello.txt', { useSignatureExpiration: 10_000 }));
    eq(valid.status, 200, 'unexpired URL');
    const expired = await fetch(await ctx.sbx.downloadUrl('hello.txt', { useSignatureExpiration: -10_000 }));
    eq(expired.status, 401, 'expired URL status');
    eq(JSON.stringify(await expired.json()), JSON.stringify({ code: 401, message: 'signature is already expired' }), 'expired URL body');
    const forged = new URL(await ctx.sbx.downloadUrl('hello.txt'));
    forged.searchParams.set('signature', `v1_${'A'.repeat(43)}`);
    const refused = await fetch(forged);
    eq(refused.status, 401, 'forged URL status');
    eq(JSON.stringify(await refused.json()), JSON.stringify({ code: 401, message: 'invalid signature' }), 'forged URL body');
    // The signature is for one path: the same signature on another path is forged too.
    const moved = new URL(await ctx.sbx.downloadUrl('hello.txt'));
    moved.searchParams.set('path', 'up.txt');
    eq((await fetch(moved)).status, 401, 'signature moved to another path');
  }],

  // Group 4.
  ['list({startedAfter}) keeps only sandboxes started after the time', async () => {
    if (!atLeast(2, 8)) return { skip: '`query.startedAfter` is not in SDK 2.7.0 and is in 2.50.0: arrived in SDK 2.8 or later' };
    const info = await ctx.sbx.getInfo();
    const started = info.startedAt.getTime();
    const before = await listAll({ metadata: { tag: ctx.tag }, startedAfter: new Date(started - 60_000) });
    check(before.some((x) => x.sandboxId === ctx.sbx.sandboxId), 'a sandbox started after the time is listed');
    const after = await listAll({ metadata: { tag: ctx.tag }, startedAfter: new Date(started + 1000) });
    check(!after.some((x) => x.sandboxId === ctx.sbx.sandboxId), 'a sandbox started before the time is not listed');
    const bad = await api('/v2/sandboxes?startedAfter=yesterday');
    eq(bad.status, 400, 'a startedAfter that is not a date-time');
    check(/startedAfter/.test((await bad.json()).message), 'the 400 names startedAfter');
  }],
  ['getMetrics({start, end}) answers for the window only', async () => {
    if (!atLeast(2, 8)) return { skip: "getMetrics' start/end are sent as path parameters (so never) in SDK 2.7.0 and as query in 2.50.0: arrived in SDK 2.8 or later" };
    const started = (await ctx.sbx.getInfo()).startedAt.getTime();
    const inside = await ctx.sbx.getMetrics({ start: new Date(started - 60_000), end: new Date(Date.now() + 60_000) });
    eq(inside.length, 1, 'samples in a window over the sandbox life');
    check(inside[0].memTotal > 0, 'the sample has the memory total');
    const before = await ctx.sbx.getMetrics({ start: new Date(started - 7_200_000), end: new Date(started - 3_600_000) });
    eq(before.length, 0, 'samples in a window before the sandbox started');
    const reversed = await api(`/sandboxes/${ctx.sbx.sandboxId}/metrics?start=200&end=100`);
    eq(reversed.status, 400, 'start after end');
    const bad = await api(`/sandboxes/${ctx.sbx.sandboxId}/metrics?start=soon`);
    eq(bad.status, 400, 'a start that is not Unix seconds');
  }],

  // Group 5: E2B's minimum timeout is 0; the sandbox's timeout action runs at once.
  ['setTimeout(0) ends the sandbox', async () => {
    const sbx = await create();
    await sbx.setTimeout(0);
    await poll(async () => !(await sbx.isRunning()), 'the sandbox to end', WAIT_MS);
    const err = await Sandbox.getInfo(sbx.sandboxId).then(() => undefined, (e) => e);
    // E2B's 404 for an ended sandbox (SDK ≥2.x: SandboxNotFoundError "not found"; 2.0: "404: … expired").
    check(err && /not found|^404: /i.test(err.message), `getInfo after the end: ${err?.message}`);
    if (!atLeast(2, 14)) return undefined;
    // With onTimeout: 'pause' (`lifecycle`, SDK ≥2.14) the timeout action is a pause.
    const paused = await create({ lifecycle: { onTimeout: 'pause' } });
    try {
      await paused.setTimeout(0);
      await poll(async () => (await paused.getInfo()).state === 'paused', 'the sandbox to pause', WAIT_MS);
    } finally {
      await paused.kill();
    }
  }],

  // Group 7, as E2B's own tests check it: a plain client on the port's address, 403 without the
  // token, 200 with it. SDK 2.0 has no network option: the sandbox is made through the API.
  ['allowPublicTraffic: false needs the trafficAccessToken on user ports', async () => {
    let sbx;
    let token;
    if (atLeast(2, 7)) {
      sbx = await create({ network: { allowPublicTraffic: false } });
      token = sbx.trafficAccessToken;
    } else {
      const res = await fetch(`${apiUrl}/v2/sandboxes`, {
        method: 'POST', headers: { 'X-API-KEY': process.env.E2B_API_KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify({ templateID: 'base', timeout: 300, metadata: { tag: ctx.tag }, network: { allowPublicTraffic: false } }),
      });
      eq(res.status, 201, 'create through the API');
      const body = await res.json();
      token = body.trafficAccessToken;
      sbx = await Sandbox.connect(body.sandboxID);
    }
    try {
      check(typeof token === 'string' && token.length > 0, 'create returns a trafficAccessToken');
      await sbx.commands.run('python3 -m http.server 8080', { background: true });
      const url = process.env.E2B_SANDBOX_URL;
      // Through E2B_SANDBOX_URL the port is named by headers; with host routing by getHost.
      const get = (headers) => (url
        ? fetch(`${url}/`, { headers: { 'E2b-Sandbox-Id': sbx.sandboxId, 'E2b-Sandbox-Port': '8080', ...headers } })
        : fetch(`https://${sbx.getHost(8080)}/`, { headers }));
      eq((await get({})).status, 403, 'without the token');
      eq((await get({ 'e2b-traffic-access-token': 'wrong' })).status, 403, 'with a wrong token');
      await poll(async () => (await get({ 'E2B-Traffic-Access-Token': token })).status === 200, 'the server to answer with the token', WAIT_MS);
      if (atLeast(2, 7)) eq((await Sandbox.connect(sbx.sandboxId)).trafficAccessToken, token, 'connect returns the same token');
    } finally {
      await sbx.kill();
    }
  }],

  // Group 10: the stream ends the way the SDK recognises a killed sandbox (health probe → 502).
  ['a sandbox killed during cmd.wait() surfaces as killed, not as a timeout', async () => {
    if (!atLeast(2, 8)) return { skip: "the health probe behind 'killed or reached its end of life' is not in SDK 2.7.0 and is in 2.50.0: arrived in SDK 2.8 or later" };
    const sbx = await create();
    const cmd = await sbx.commands.run('sleep 60', { background: true });
    await sbx.kill();
    const err = await cmd.wait().then(() => undefined, (e) => e);
    check(err, 'wait() must fail');
    check(/sandbox was killed or reached its end of life/.test(err.message), `wait() error: ${err.message}`);
  }],

  ['create with an MCP gateway is refused as not supported', async () => {
    if (!atLeast(2, 7)) return { skip: 'the `mcp` create option arrived in SDK 2.7' };
    const err = await create({ mcp: { exa: { apiKey: 'x' } } }).then((s) => s.kill().then(() => undefined), (e) => e);
    check(err, 'create must fail');
    check(/501/.test(err.message) && /MCP gateway .* not supported/.test(err.message), `create error: ${err.message}`);
    const left = await listAll({ metadata: { tag: ctx.tag } });
    eq(left.length, 1, 'sandboxes of this run after the refused create (only `create`\'s)');
  }],
];

for (const [name, fn] of scenarios) {
  const t0 = Date.now();
  try {
    if (!ctx.sbx && name !== 'create') throw new Error('no sandbox (create failed)');
    const r = await fn();
    console.log(JSON.stringify({ name, ok: true, ms: Date.now() - t0, ...(r?.skip ? { skip: r.skip } : {}) }));
  } catch (err) {
    console.log(JSON.stringify({ name, ok: false, ms: Date.now() - t0, error: String(err?.stack ?? err).slice(0, 2000) }));
  }
}
await ctx.sbx?.kill().catch(() => {});
