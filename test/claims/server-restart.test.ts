// README "No data loss": after a SIGKILL the server re-adopts running sandboxes, keeps paused
// ones resumable and resumes timers. On the real engine (runc + busybox), in a server process
// that is SIGKILLed: timers set before the kill fire after the restart, at their recorded
// deadline and with their onTimeout action; a paused sandbox is still paused and resumes; the
// recovery report counts every sandbox as re-adopted.
// test-file-timeout: 10 min
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchAny } from '../support/fake-server.ts';
import { bootServerProcess, killServerProcess, removeServerHome, type ServerProcess } from '../support/server-process.ts';
import { networkIndex } from '../support/test-network.ts';
import { waitFor } from '../support/wait.ts';

const NET = networkIndex('server-claims-1');
/** Long enough for a SIGKILL and a restart, short enough to wait for. */
const TIMEOUT_S = 45;

interface View { id: string; state: string; expiresAt?: string }

test('timers set before a SIGKILL fire after the restart; paused sandboxes stay resumable', { timeout: 480_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'agentbox-claims-restart-'));
  let srv: ServerProcess | undefined;
  try {
    srv = await bootServerProcess(home, NET);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetchAny(`${srv!.url}${path}`, { method, headers: { Authorization: `Bearer ${srv!.key}`, 'Content-Type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: await res.json().catch(() => undefined) as View & { stdout?: string } };
    };
    const create = async (extra: Record<string, unknown>) => {
      const r = await call('POST', '/v1/sandboxes', { template: 'busybox', ...extra });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body;
    };
    const killed = await create({ timeoutSeconds: TIMEOUT_S });
    const pausedAtTimeout = await create({ timeoutSeconds: TIMEOUT_S, onTimeout: 'pause' });
    const untimed = await create({ timeoutSeconds: 3600 });
    const paused = await create({ timeoutSeconds: 3600 });
    await call('POST', `/v1/sandboxes/${paused.id}/exec`, { cmd: 'echo kept > /tmp/mark' });
    assert.equal((await call('POST', `/v1/sandboxes/${paused.id}/pause`)).status, 200);
    const deadline = {
      killed: Date.parse((await call('GET', `/v1/sandboxes/${killed.id}`)).body.expiresAt!),
      pausedAtTimeout: Date.parse((await call('GET', `/v1/sandboxes/${pausedAtTimeout.id}`)).body.expiresAt!),
    };

    await killServerProcess(srv);
    srv = await bootServerProcess(home, NET);
    assert.deepEqual(srv.recovery, { adopted: 4, removed: 0, lost: 0, orphans: 0 });
    const before = Date.now();
    assert.ok(before < Math.min(deadline.killed, deadline.pausedAtTimeout), `the restart took longer than the ${TIMEOUT_S} s timeout; nothing would be shown`);
    // The deadlines are the ones recorded before the kill, and nothing fired early.
    const k = (await call('GET', `/v1/sandboxes/${killed.id}`)).body;
    assert.deepEqual([k.state, Date.parse(k.expiresAt!)], ['running', deadline.killed]);
    const p = (await call('GET', `/v1/sandboxes/${pausedAtTimeout.id}`)).body;
    assert.deepEqual([p.state, Date.parse(p.expiresAt!)], ['running', deadline.pausedAtTimeout]);

    // The paused sandbox is still paused, and resumes with its memory.
    assert.equal((await call('GET', `/v1/sandboxes/${paused.id}`)).body.state, 'paused');
    assert.equal((await call('POST', `/v1/sandboxes/${paused.id}/resume`)).status, 200);
    assert.equal((await call('POST', `/v1/sandboxes/${paused.id}/exec`, { cmd: 'cat /tmp/mark' })).body.stdout, 'kept\n');

    // The timers fire in the new process: kill, and pause.
    // It ended by its timeout, and the API says so (server/ended-store.ts).
    const ended = await waitFor('the kill timer', async () => {
      const r = await call('GET', `/v1/sandboxes/${killed.id}`);
      return r.status === 410 && (r.body as unknown as { code: string; details: { reason: string } });
    }, (TIMEOUT_S + 60) * 1000, 250);
    assert.deepEqual([ended.code, ended.details.reason], ['sandbox_ended', 'expired']);
    assert.ok(Date.now() >= deadline.killed, 'killed at or after its deadline');
    await waitFor('the pause timer', async () => (await call('GET', `/v1/sandboxes/${pausedAtTimeout.id}`)).body.state === 'paused', 60_000, 250);
    assert.equal((await call('GET', `/v1/sandboxes/${untimed.id}`)).body.state, 'running');
  } finally {
    await killServerProcess(srv);
    await removeServerHome(home, NET);
  }
});
