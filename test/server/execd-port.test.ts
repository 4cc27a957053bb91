// test-file-guests: typescript native
// execd's port 44772 through the server's port proxy, over gVisor: a caller with an API key
// reaches execd without knowing the sandbox's token (the server adds it, as for envd on 49983),
// while anonymous traffic by host name gets no token added and execd refuses it.
// test-file-timeout: 20 min
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { EXECD_PORT } from '../../src/api/opensandbox-execd.ts';
import { parseEvents } from '../support/execd-client.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';

let s: RealServer | undefined;
let skip: string | false = false;
before(async () => {
  const started = await startRealServer('execd-port', { runtime: 'gvisor', domain: 'sbx.test' });
  if (typeof started === 'string') { skip = started; return; }
  s = started;
  await s.created.templates.ensure('base');
});
after(async () => { await s?.stop(); });

function byHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s!.server.port, path, headers: { Host: host } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.once('error', reject);
    req.end();
  });
}

test('execd through /v1/sandboxes/{id}/ports/44772 with an API key; by host name without its token it refuses', { timeout: 240_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const res = await s!.api('/v1/sandboxes', { method: 'POST', json: { template: 'base', runtime: 'gvisor' } });
  assert.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  try {
    const run = await s!.api(`/v1/sandboxes/${id}/ports/${EXECD_PORT}/command`, { method: 'POST', json: { command: 'echo through the server' } });
    assert.equal(run.status, 200);
    const events = parseEvents(await run.text());
    assert.deepEqual(events.filter((e) => e.type === 'stdout').map((e) => e.text), ['through the server']);
    assert.equal(events.at(-1)!.type, 'execution_complete');
    assert.equal(await byHost('/ping', `${EXECD_PORT}-${id}.sbx.test`), 200);
    assert.equal(await byHost('/metrics', `${EXECD_PORT}-${id}.sbx.test`), 401);
  } finally {
    await s!.api(`/v1/sandboxes/${id}`, { method: 'DELETE' });
  }
});
