// SIGKILL of the server during creates and file writes on the REAL engine (runc + busybox):
// after a restart every acknowledged sandbox and file is there, half-created sandboxes are
// gone, and running processes survived (the sandboxes do not belong to the server process).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { createEngine } from '../../src/engine/index.ts';
import { fetchAny } from '../support/fake-server.ts';
import { networkIndex, testNetwork } from '../support/test-network.ts';

const main = new URL('../support/real-server-main.ts', import.meta.url).pathname;
const NET = networkIndex('server-crash');

async function boot(home: string): Promise<{ child: ChildProcess; url: string; key: string; recovery: Record<string, number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, home, String(NET)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server did not start in 120 s')), 120_000);
    createInterface({ input: child.stdout! }).once('line', (l) => { clearTimeout(t); resolve(l); });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; key: string; recovery: Record<string, number> }) };
}

test('SIGKILL during creates and writes loses nothing acknowledged (real engine)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-e2e-crash-'));
  let srv: Awaited<ReturnType<typeof boot>> | undefined;
  try {
    srv = await boot(home);
    const h = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
    const base = await (await fetchAny(`${srv.url}/v1/sandboxes`, { method: 'POST', headers: h(srv.key), body: JSON.stringify({ template: 'busybox', timeoutSeconds: 3600 }) })).json();
    assert.ok(base.id, JSON.stringify(base));
    const bg = await (await fetchAny(`${srv.url}/v1/sandboxes/${base.id}/exec`, { method: 'POST', headers: h(srv.key), body: JSON.stringify({ cmd: 'sleep 1000 >/dev/null 2>&1 & echo $!' }) })).json();
    const pid = bg.stdout.trim();
    const acked: string[] = [];
    const written: number[] = [];
    let stop = false;
    const { url, key } = srv;
    const creator = (async () => {
      for (let i = 0; i < 100 && !stop; i++) {
        try {
          const r = await fetchAny(`${url}/v1/sandboxes`, { method: 'POST', headers: h(key), body: JSON.stringify({ template: 'busybox', timeoutSeconds: 3600 }) });
          if (r.status === 201) acked.push((await r.json()).id);
        } catch { return; }
      }
    })();
    const writer = (async () => {
      for (let i = 0; i < 2000 && !stop; i++) {
        try {
          const r = await fetchAny(`${url}/v1/sandboxes/${base.id}/files?path=/tmp/w/${i}`, { method: 'PUT', headers: { Authorization: `Bearer ${key}` }, body: `data-${i}` });
          if (r.status === 200) written.push(i);
        } catch { return; }
      }
    })();
    await new Promise((r) => setTimeout(r, 2500));
    srv.child.kill('SIGKILL');
    stop = true;
    await Promise.all([creator, writer]);
    assert.ok(acked.length > 0 && written.length > 0, `traffic ran before the kill (${acked.length} creates, ${written.length} writes)`);

    srv = await boot(home);
    const list = await (await fetchAny(`${srv.url}/v1/sandboxes?limit=1000`, { headers: h(srv.key) })).json() as { sandboxes: { id: string; state: string }[] };
    const ids = new Set(list.sandboxes.map((x) => x.id));
    for (const id of [base.id, ...acked]) assert.ok(ids.has(id), `acknowledged sandbox ${id} survived`);
    assert.ok(list.sandboxes.every((x) => x.state === 'running'), JSON.stringify(list.sandboxes.map((x) => x.state)));
    const alive = await (await fetchAny(`${srv.url}/v1/sandboxes/${base.id}/exec`, { method: 'POST', headers: h(srv.key), body: JSON.stringify({ cmd: `kill -0 ${pid} && echo alive` }) })).json();
    assert.equal(alive.stdout, 'alive\n', 'a process started before the crash still runs');
    for (const i of written) {
      const r = await fetchAny(`${srv.url}/v1/sandboxes/${base.id}/files?path=/tmp/w/${i}`, { headers: h(srv.key) });
      assert.equal(await r.text(), `data-${i}`);
    }
  } finally {
    srv?.child.kill('SIGKILL');
    // Tear down what the two server processes left: their sandboxes, table and home.
    const created = await createEngine({ home: join(home, 'engine'), defaultRuntime: 'runc', network: testNetwork(NET) }).catch(() => undefined);
    if (created) {
      for (const s of created.engine.list()) await created.engine.destroy(s.id).catch(() => undefined);
      await created.engine.close();
    }
    await runCommand('nft', ['delete', 'table', 'inet', testNetwork(NET).table]).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
});
