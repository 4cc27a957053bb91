// SIGKILL of the server during creates and file writes loses nothing acknowledged. The server
// is a real child process with real SQLite; the engine is the FAKE one (test/support/fake-engine.ts),
// whose state lives on disk like the real engine's, so what is tested is the server's write
// ordering and recovery. e2e-crash.test.ts repeats this on the real engine.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchAny } from '../support/fake-server.ts';
import { bootFakeServerProcess } from '../support/server-process.ts';
import { waitFor } from '../support/wait.ts';

const boot = bootFakeServerProcess;

test('SIGKILL during creates and file writes loses nothing acknowledged', async () => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-crash-'));
  try {
    let srv = await boot(home, 30);
    const auth = { Authorization: `Bearer ${srv.key}` };
    const base = await (await fetchAny(`${srv.url}/v1/sandboxes`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ template: 'busybox', timeoutSeconds: 3600 }) })).json();
    const paused = await (await fetchAny(`${srv.url}/v1/sandboxes`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ template: 'busybox', timeoutSeconds: 3600 }) })).json();
    assert.equal((await fetchAny(`${srv.url}/v1/sandboxes/${paused.id}/pause`, { method: 'POST', headers: auth })).status, 200);
    const acked: string[] = [];
    const written: string[] = [];
    let stop = false;
    const creator = (async () => {
      for (let i = 0; i < 500 && !stop; i++) {
        try {
          const r = await fetchAny(`${srv.url}/v1/sandboxes`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ template: 'busybox', timeoutSeconds: 3600 }) });
          if (r.status === 201) acked.push(((await r.json()) as { id: string }).id);
        } catch { return; }
      }
    })();
    const writer = (async () => {
      for (let i = 0; i < 5000 && !stop; i++) {
        try {
          const r = await fetchAny(`${srv.url}/v1/sandboxes/${base.id}/files?path=/w/${i}`, { method: 'PUT', headers: auth, body: `data-${i}` });
          if (r.status === 200) written.push(String(i));
        } catch { return; }
      }
    })();
    // Killed mid-loop, once each loop has been acknowledged a few times.
    await waitFor('acknowledged creates and writes', () => acked.length >= 3 && written.length >= 10, 60_000);
    srv.child.kill('SIGKILL');
    stop = true;
    await Promise.all([creator, writer]);
    assert.ok(acked.length > 0 && written.length > 0, `traffic ran before the kill (${acked.length} creates, ${written.length} writes)`);

    srv = await boot(home, 0);
    try {
      const list = await (await fetchAny(`${srv.url}/v1/sandboxes?limit=1000`, { headers: { Authorization: `Bearer ${srv.key}` } })).json() as { sandboxes: { id: string; state: string }[] };
      const ids = new Set(list.sandboxes.map((x) => x.id));
      for (const id of [base.id, paused.id, ...acked]) assert.ok(ids.has(id), `acknowledged sandbox ${id} survived`);
      assert.ok(list.sandboxes.every((x) => x.state === (x.id === paused.id ? 'paused' : 'running')), 'half-created rows are gone, the rest kept their state');
      const resumed = await fetchAny(`${srv.url}/v1/sandboxes/${paused.id}/resume`, { method: 'POST', headers: { Authorization: `Bearer ${srv.key}` } });
      assert.equal((await resumed.json()).state, 'running', 'a paused sandbox stays resumable');
      // The engine holds exactly the recorded sandboxes: half-made ones were cleaned up.
      assert.deepEqual(readdirSync(join(home, 'engine', 'state')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort(), [...ids].sort());
      for (const i of written) {
        const r = await fetchAny(`${srv.url}/v1/sandboxes/${base.id}/files?path=/w/${i}`, { headers: { Authorization: `Bearer ${srv.key}` } });
        assert.equal(await r.text(), `data-${i}`);
      }
      assert.equal(statSync(join(home, 'admin.key')).mode & 0o777, 0o600);
    } finally {
      srv.child.kill('SIGKILL');
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
