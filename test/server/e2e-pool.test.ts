// Warm pools on the REAL engine (runc + busybox): 100 concurrent creates against a pool of 10
// give 100 distinct, working sandboxes; warm claims carry their env, metadata and timeout.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sandbox } from 'agentbox';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { waitFor } from '../support/wait.ts';

let s: RealServer | undefined;
let skip: string | false = false;
before(async () => {
  // 110 sandboxes need more than the fixture's /24 (64 links): a /22 of its own.
  const r = await startRealServer('pool', { wideSubnet: true });
  if (typeof r === 'string') skip = r; else s = r;
});
after(async () => { await s?.stop(); });

test('100 concurrent creates against a pool of 10 give 100 distinct sandboxes', async (t) => {
  if (skip) return t.skip(skip);
  const conn = { apiUrl: s!.server.url, apiKey: s!.server.adminKey };
  assert.equal((await s!.api('/v1/pools/busybox', { method: 'PUT', json: { size: 10 } })).status, 200);
  await waitFor('10 ready pool members', async () => (await (await s!.api('/v1/pools/busybox')).json()).ready === 10, 180_000, 100);
  const made = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    Sandbox.create({ ...conn, template: 'busybox', envs: { N: String(i) }, metadata: { n: String(i) }, timeoutMs: 600_000 })));
  assert.equal(new Set(made.map((m) => m.sandboxId)).size, 100);
  const infos = await Promise.all(made.map((m) => m.getInfo()));
  const warm = infos.filter((i) => i.fromPool);
  assert.ok(warm.length >= 10, `${warm.length} warm claims`);
  infos.forEach((info, i) => { assert.equal(info.metadata.n, String(i)); assert.equal(info.timeoutSeconds, 600); });
  // A warm sandbox runs commands with the env given at claim.
  const w = made[infos.indexOf(warm[0]!)]!;
  assert.equal((await w.commands.run('echo $N')).stdout, `${infos.indexOf(warm[0]!)}\n`);
  await Promise.all(made.map((m) => m.kill()));
  await s!.api('/v1/pools/busybox', { method: 'DELETE' });
});
