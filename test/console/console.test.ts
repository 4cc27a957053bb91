// test-file-timeout: 20 min
// The web console (docs/console.md) in a real browser: Debian's chromium (scripts/console-browser.sh)
// driven by playwright-core, against the real server with real gVisor sandboxes
// (test/support/real-server.ts). The bundle is built first (scripts/build-console.mjs), so the
// test always drives the current source.
// With AGENTBOX_CONSOLE_SCREENSHOTS=<dir> it also saves the screenshots of docs/console/ there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { skipOutsideCI } from '../support/ci.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { waitFor } from '../support/wait.ts';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const screenshots = process.env.AGENTBOX_CONSOLE_SCREENSHOTS;

let s: RealServer | undefined;
let browser: Browser | undefined;
let skip: string | false = false;
let ui: string;

before(async () => {
  execFileSync(process.execPath, [join(root, 'scripts/build-console.mjs')], { stdio: 'inherit' });
  if (!existsSync(CHROMIUM)) { skip = skipOutsideCI(`${CHROMIUM} is missing`, 'run bash scripts/console-browser.sh'); return; }
  const r = await startRealServer('console', { runtime: 'gvisor' });
  if (typeof r === 'string') { skip = r; return; }
  s = r;
  ui = `${s.server.url}/ui/`;
  // --no-sandbox: the tests run as root, where chromium's own sandbox refuses to start.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${s!.server.url}${path}`, { ...init, headers: { Authorization: `Bearer ${s!.server.adminKey}`, ...init.headers } });

/** A fresh tab (its own sessionStorage) that records the API calls it makes and its errors. */
interface Tab { page: Page; apiCalls: string[]; errors: string[] }

async function openTab(): Promise<Tab> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const apiCalls: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => { if (!new URL(r.url()).pathname.startsWith('/ui/')) apiCalls.push(`${r.method()} ${new URL(r.url()).pathname}`); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // A Content-Security-Policy violation is reported on the console as an error.
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { page, apiCalls, errors };
}

async function enterKey(page: Page, key: string): Promise<void> {
  await page.goto(ui);
  await page.fill('input[name=key]', key);
  await page.click('.key-prompt button[type=submit]');
}

/** A tab past the key prompt, on the sandbox list. */
async function signedIn(key: string): Promise<Tab> {
  const tab = await openTab();
  await enterKey(tab.page, key);
  await tab.page.waitForSelector('h2:has-text("Sandboxes")');
  return tab;
}

/** Closes the tab; nothing it loaded was refused by the Content-Security-Policy. */
async function closeTab({ page, errors }: Tab): Promise<void> {
  assert.ok(errors.every((e) => !/Content Security Policy/i.test(e)), errors.join('\n'));
  await page.context().close();
}

async function shot(page: Page, name: string): Promise<void> {
  if (screenshots) await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

describe('web console', () => {
  test('static files: content types, caching, a strict CSP; no API data without a key', async (t) => {
    if (skip) return t.skip(skip);
    const index = await fetch(ui);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'scripts only from the server itself');
    const html = await index.text();
    const script = /src="(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const js = await fetch(new URL(script, ui));
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    const etag = js.headers.get('etag')!;
    assert.equal((await fetch(new URL(script, ui), { headers: { 'If-None-Match': etag } })).status, 304);

    const redirect = await fetch(`${s!.server.url}/ui`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/ui/');
    const missing = await fetch(`${ui}assets/nothing.js`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'not_found');
    const traversal = await fetch(`${ui}..%2f..%2fpackage.json`);
    assert.equal(traversal.status, 404);
    const post = await fetch(ui, { method: 'POST' });
    assert.equal(post.status, 400);
    assert.equal(((await post.json()) as { code: string }).code, 'invalid_argument');

    // What the console's pages call, without a key: refused, with the API's code.
    for (const path of ['/v1/sandboxes', '/v1/templates', '/metrics']) {
      const res = await fetch(`${s!.server.url}${path}`);
      assert.equal(res.status, 401, path);
      assert.equal(((await res.json()) as { code: string }).code, 'unauthenticated');
    }

    // The page without a key: the prompt only, and it asks the API for nothing.
    const tab = await openTab();
    const { page, apiCalls } = tab;
    await page.goto(`${ui}#/sandboxes`);
    await page.waitForSelector('input[name=key]');
    assert.equal(await page.locator('table').count(), 0);
    await shot(page, 'key-prompt');
    // A wrong key is checked, refused and not kept.
    await enterKey(page, 'e2b_0000000000000000000000000000000000000000');
    await page.waitForSelector('.key-prompt .error');
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    assert.deepEqual(apiCalls, ['GET /v1/limits'], 'the only call without a valid key is the one checking it');
    await closeTab(tab);
  });

  test('create a sandbox, type in its terminal, run a command, upload and download, pause, resume, kill', async (t) => {
    if (skip) return t.skip(skip);
    const tab = await signedIn(s!.server.adminKey);
    const { page } = tab;
    assert.equal(await page.evaluate("sessionStorage.getItem('agentbox.apiKey')"), s!.server.adminKey);

    // Create: the template list comes from the API; the new row appears running.
    await page.waitForSelector('select[name=template] option:has-text("busybox")', { state: 'attached' });
    await page.selectOption('select[name=template]', 'busybox');
    await page.fill('input[name=timeout]', '600');
    await page.click('button:has-text("Create sandbox")');
    const row = page.locator('tr[data-sandbox][data-state=running]');
    await row.waitFor({ timeout: 120_000 });
    const id = (await row.getAttribute('data-sandbox'))!;
    // The columns: state, template, age, timeout (and what is left of it), resources.
    assert.equal(await row.locator('td').nth(1).innerText(), 'running');
    assert.equal(await row.locator('td').nth(2).innerText(), 'busybox');
    assert.match(await row.locator('td').nth(3).innerText(), /^\d+s$|^\d+m \d+s$/);
    assert.match(await row.locator('td').nth(4).innerText(), /^600s · (\d+m )?\d+s left$/);
    assert.match(await row.locator('td').nth(5).innerText(), /^\d+(\.\d+)? CPU · \d+ MiB/);
    // Live use, read from the sandbox's cgroup: its memory as the row shows it is above zero;
    // CPU% comes from the second read on.
    const memory = row.locator('[data-usage=memory]');
    await memory.waitFor({ timeout: 30_000 });
    const [, amount, unit] = /^(\d+(?:\.\d+)?) (B|KiB|MiB|GiB)$/.exec(await memory.innerText()) ?? [];
    assert.ok(Number(amount) > 0 && unit, `memory in use as the row shows it: ${await memory.innerText()}`);
    const cpu = row.locator('[data-usage=cpu]');
    await waitFor('a CPU% in the row', async () => {
      const text = await cpu.innerText();
      if (!/^\d+\.\d%$/.test(text)) throw new Error(`CPU reads ${text}`);
      return true;
    }, 30_000, 100);
    assert.ok(Number(await row.locator('[data-usage=pids]').innerText()) >= 1, 'at least the guest daemon runs');
    const listed = (await (await api('/v1/sandboxes')).json()) as { sandboxes: { id: string; state: string }[] };
    assert.deepEqual(listed.sandboxes.map((x) => [x.id, x.state]), [[id, 'running']]);
    await shot(page, 'sandboxes');

    // The terminal: a shell on a PTY; what is typed runs and its output comes back.
    await page.click(`a[href="#/sandboxes/${id}"]`);
    await page.click('button[data-action=open-terminal]');
    await page.waitForSelector('[data-testid=terminal-status]:has-text("live")');
    await page.click('.xterm');
    await page.keyboard.type('echo $((6*7))-from-the-pty\n');
    // The echoed input reads `$((6*7))`: only the shell's answer reads 42.
    await waitFor('the shell\'s answer in the terminal', async () => (await page.locator('.xterm-rows').innerText()).includes('42-from-the-pty'), 30_000, 100);
    await page.keyboard.type('echo typed > /tmp/typed.txt\n');
    await waitFor('the file the shell wrote', async () => (await (await api(`/v1/sandboxes/${id}/files?path=/tmp/typed.txt`)).text()) === 'typed\n', 30_000, 100);

    // A command's output, streamed.
    await page.fill('input[name=cmd]', 'echo out; echo err >&2; exit 3');
    await page.click('button:has-text("Run")');
    await page.waitForSelector('[data-testid=exec-status]:has-text("exit 3")');
    assert.equal(await page.locator('[data-testid=exec-output] .stdout').innerText(), 'out\n');
    assert.equal(await page.locator('[data-testid=exec-output] .stderr').innerText(), 'err\n');

    // Files: upload into /tmp, then download it back.
    const content = `uploaded from the browser ${id}\n`;
    await page.setInputFiles('input[data-testid=upload]', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from(content) });
    await page.waitForSelector('tr[data-file="hello.txt"]');
    assert.equal(await (await api(`/v1/sandboxes/${id}/files?path=/tmp/hello.txt`)).text(), content);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('tr[data-file="hello.txt"] button[data-action=download]')]);
    assert.equal(download.suggestedFilename(), 'hello.txt');
    assert.equal(readFileSync((await download.path())!, 'utf8'), content);
    await shot(page, 'sandbox');

    // Pause and resume from the sandbox's page; the server agrees.
    assert.ok(await page.locator('#summary [data-testid=usage]').isVisible(), 'a running sandbox\'s page shows its use');
    await page.click('button[data-action=pause]');
    await page.waitForSelector('[data-testid=state]:has-text("paused")', { timeout: 120_000 });
    assert.equal(await page.locator('#summary [data-testid=usage]').count(), 0, 'a paused sandbox shows no use');
    assert.equal(((await (await api(`/v1/sandboxes/${id}`)).json()) as { state: string }).state, 'paused');
    await page.click('button[data-action=resume]');
    await page.waitForSelector('[data-testid=state]:has-text("running")', { timeout: 120_000 });
    assert.equal(((await (await api(`/v1/sandboxes/${id}`)).json()) as { state: string }).state, 'running');
    assert.equal(await (await api(`/v1/sandboxes/${id}/files?path=/tmp/hello.txt`)).text(), content, 'the file survived pause and resume');

    // Fork: the page links the new sandbox, which has the original's files.
    await page.click('button[data-action=fork]');
    const forkLink = page.locator('a:near(:text("forked into"))[href^="#/sandboxes/"]').first();
    await page.waitForSelector('text=forked into', { timeout: 120_000 });
    const forkId = (await forkLink.innerText()).trim();
    assert.notEqual(forkId, id);
    assert.equal(await (await api(`/v1/sandboxes/${forkId}/files?path=/tmp/hello.txt`)).text(), content, 'the fork has the files');
    assert.equal((await api(`/v1/sandboxes/${forkId}`, { method: 'DELETE' })).status, 204);

    // Kill from the list: the row goes, and so does the sandbox.
    await page.click('nav a:has-text("Sandboxes")');
    await page.click(`tr[data-sandbox="${id}"] button[data-action=kill]`);
    await page.locator(`tr[data-sandbox="${id}"]`).waitFor({ state: 'detached', timeout: 60_000 });
    const killed = await api(`/v1/sandboxes/${id}`);
    assert.equal(killed.status, 410);
    assert.equal(((await killed.json()) as { code: string }).code, 'sandbox_ended');
    await closeTab(tab);
  });

  test('templates, pools, tenants and keys, metrics charts', async (t) => {
    if (skip) return t.skip(skip);
    const tab = await signedIn(s!.server.adminKey);
    const { page } = tab;
    // The streamed build's failure is its one last line, with the API's code; nothing is built.
    const bad = await api('/v1/templates', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' }, body: JSON.stringify({ name: 'console-bad', from: { nothing: {} } }) });
    assert.equal(bad.headers.get('content-type'), 'application/x-ndjson');
    const lines = (await bad.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string });
    assert.deepEqual([lines.at(-1)!.type, lines.at(-1)!.code], ['error', 'invalid_argument']);
    assert.ok(!((await (await api('/v1/templates')).json()) as { templates: { name: string }[] }).templates.some((x) => x.name === 'console-bad'));

    // A build from a recipe, its progress lines streamed into the page while it runs.
    await page.click('nav a:has-text("Templates")');
    await page.waitForSelector('tr[data-template="busybox"]');
    await page.fill('input[name=name]', 'console-built');
    // A step of its own (the engine caches the result of steps it has run before).
    await page.fill('textarea[name=recipe]', JSON.stringify({ from: { template: 'busybox' }, run: [`echo ${randomUUID()} > /built`] }));
    await page.click('button:has-text("Build")');
    await page.waitForSelector('[data-testid=build-result]:has-text("console-built: ready")', { timeout: 300_000 });
    assert.match(await page.locator('[data-testid=build-log]').innerText(), /running 1 step\(s\) in a sandbox[\s\S]*template console-built built/);
    await page.waitForSelector('tr[data-template="console-built"] td:has-text("ready")');
    await shot(page, 'templates');

    // A pool set from the page fills, and the page shows it ready.
    await page.click('nav a:has-text("Pools")');
    await page.fill('input[name=template]', 'busybox');
    await page.fill('input[name=size]', '1');
    await page.click('button:has-text("Set")');
    await page.waitForSelector('tr[data-pool="busybox"] td:has-text("1/1")', { timeout: 120_000 });
    assert.equal(((await (await api('/v1/pools/busybox')).json()) as { ready: number }).ready, 1);
    assert.equal((await api('/v1/pools/busybox', { method: 'DELETE' })).status, 204);

    await page.click('nav a:has-text("Tenants and keys")');
    await page.fill('input[name=name][pattern]', 'console-team');
    await page.click('button:has-text("Create"):not(:has-text("key"))');
    await page.waitForSelector('td:has-text("console-team")');
    const tenants = (await (await api('/v1/tenants')).json()) as { tenants: { name: string }[] };
    assert.ok(tenants.tenants.some((x) => x.name === 'console-team'));
    await page.selectOption('select[name=tenant]', 'console-team');
    await page.fill('form:has(select[name=tenant]) input[name=name]', 'ci');
    await page.click('button:has-text("Create key")');
    // The secret, or the error the page shows instead (a failure then says what the page said).
    await page.waitForSelector('.secret code, #page .error');
    assert.deepEqual(await page.locator('#page .error').allInnerTexts(), []);
    const secret = await page.locator('.secret code').innerText();
    assert.equal((await fetch(`${s!.server.url}/v1/limits`, { headers: { Authorization: `Bearer ${secret}` } })).status, 200, 'the key the console made works');
    await shot(page, 'admin');

    // Metrics: the charts follow scrapes of /metrics; execs run meanwhile show as exec latency.
    const sbx = (await (await api('/v1/sandboxes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ template: 'busybox' }) })).json()) as { id: string };
    await page.click('nav a:has-text("Metrics")');
    // The page draws its charts once it has rendered; counted before that, there are none.
    await page.locator('figure canvas').first().waitFor();
    assert.equal(await page.locator('figure canvas').count(), 4, 'four charts');
    const latency = page.locator('figure[data-chart^="Claim and exec"] .latest');
    await waitFor('exec latency on the chart', async () => {
      const r = await api(`/v1/sandboxes/${sbx.id}/exec`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ cmd: 'true' }) });
      assert.equal(r.status, 200);
      return /exec \d+\.\d ms/.test(await latency.innerText());
    }, 60_000, 500);
    assert.match(await page.locator('figure[data-chart="Sandboxes by state"] .latest').innerText(), /running 1\.0/);
    assert.match(await page.locator('figure[data-chart^="Server memory"] .latest').innerText(), /RSS [1-9]\d*\.\d MiB/);
    // Creates per second: a cold create while the page scrapes shows on its chart. The figure
    // holds one scrape's rate until the next (two seconds), so Playwright watches it in the page.
    const createShown = page.locator('figure[data-chart="Creates per second"] .latest', { hasText: /cold creates (?!0\.0 )\d+\.\d/ }).waitFor({ timeout: 60_000 });
    const second = (await (await api('/v1/sandboxes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ template: 'busybox' }) })).json()) as { id: string };
    await createShown;
    assert.equal((await api(`/v1/sandboxes/${second.id}`, { method: 'DELETE' })).status, 204);
    // For the screenshot, lines rather than a first dot: a few more scrapes.
    if (screenshots) await waitFor('six scrapes', async () => Number(await page.locator('figure[data-chart^="Server memory"]').getAttribute('data-points')) >= 6, 60_000, 200);
    assert.equal(await page.locator('#metrics-error .error').count(), 0);
    await shot(page, 'metrics');
    assert.equal((await api(`/v1/sandboxes/${sbx.id}`, { method: 'DELETE' })).status, 204);

    // A tenant's key sees no admin pages' data: the server refuses and the page says so.
    const other = await signedIn(secret);
    await other.page.click('nav a:has-text("Tenants and keys")');
    await other.page.waitForSelector('.error:has-text("permission_denied")');
    assert.equal(await other.page.locator('td:has-text("console-team")').count(), 0);
    await closeTab(other);

    // Revoke the key from the page (after the browser's confirm): the server refuses it from then on.
    await page.click('nav a:has-text("Tenants and keys")');
    const revoke = page.locator('tr:has(td:text-is("ci")):has(td:text-is("console-team")) button:has-text("Revoke")');
    page.once('dialog', (d) => void d.accept());
    await revoke.click();
    await revoke.waitFor({ state: 'detached' });
    assert.equal((await fetch(`${s!.server.url}/v1/limits`, { headers: { Authorization: `Bearer ${secret}` } })).status, 401, 'a revoked key is refused');
    await closeTab(tab);
  });
});
