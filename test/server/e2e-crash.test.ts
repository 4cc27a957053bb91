// SIGKILL of the server during creates and file writes on the REAL engine (runc + busybox):
// after a restart every acknowledged sandbox and file is there, half-created sandboxes are
// gone, and running processes survived (the sandboxes do not belong to the server process).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchAny } from '../support/fake-server.ts';
import { bootServerProcess, killServerProcess, removeServerHome, type ServerProcess } from '../support/server-process.ts';
import { networkIndex } from '../support/test-network.ts';
import { waitFor } from '../support/wait.ts';

const NET = networkIndex('server-crash');
const boot = (home: string) => bootServerProcess(home, NET);

test('SIGKILL during creates and writes loses nothing acknowledged (real engine)', { timeout: 600_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-e2e-crash-'));
  let srv: ServerProcess | undefined;
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
    // Killed while the creator and writer are mid-loop, once each has been acknowledged a few times.
    await waitFor('acknowledged creates and writes', () => acked.length >= 2 && written.length >= 10, 120_000);
    await killServerProcess(srv);
    stop = true;
    await Promise.all([creator, writer]);
    assert.ok(acked.length > 0 && written.length > 0, `traffic ran before the kill (${acked.length} creates, ${written.length} writes)`);

    srv = await boot(home);
    assert.equal(srv.recovery.lost, 0, JSON.stringify(srv.recovery));
    assert.ok(srv.recovery.adopted >= 1 + acked.length, `every acknowledged sandbox was re-adopted: ${JSON.stringify(srv.recovery)}`);
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
    await killServerProcess(srv);
    await removeServerHome(home, NET);
  }
});
