/** Sandbox lifecycle on real gVisor and runc: create, exec through the guest, inspect, destroy. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentboxError } from '../../src/api/errors.ts';
import { destroyAfter, sh, startTestEngine, type TestEngine } from './fixture.ts';

let t: TestEngine;
before(async () => {
  t = await startTestEngine('lifecycle');
  await t.templates.ensure('busybox');
});
after(() => t.cleanup());

for (const runtime of ['gvisor', 'runc'] as const) {
  describe(`${runtime} sandbox`, () => {
    it('runs the guest as PID 1 in a busybox image with no libc, with hostname = id and the template user', async (ctx) => {
      const sbx = await t.engine.run({ template: 'busybox', runtime, limits: { memoryMiB: 200 } });
      destroyAfter(ctx, t.engine, sbx.id);
      assert.equal(sbx.state, 'running');
      assert.equal(sbx.runtime, runtime);
      assert.match(sbx.id, /^[a-z0-9]{20}$/);
      assert.equal(await sh(t.engine, sbx.id, 'hostname'), sbx.id);
      assert.equal(await sh(t.engine, sbx.id, 'id -un'), 'user');
      assert.equal(await sh(t.engine, sbx.id, 'id -un', 'root'), 'root');
      assert.match(await sh(t.engine, sbx.id, 'cat /proc/1/cmdline | tr "\\0" " "'), /\/opt\/agentbox\/bin\/tini/);
      // No libc and no node in the image: the guest runs on its own bundled runtime.
      assert.equal(await sh(t.engine, sbx.id, 'ls /lib /usr/lib 2>/dev/null | wc -l; command -v node || echo no-node'), '0\nno-node');
      // The guest bundle is mounted read-only.
      const w = await t.engine.exec(sbx.id, { cmd: ['/bin/sh', '-c', 'touch /opt/agentbox/x'], user: 'root' });
      assert.notEqual(w.exitCode, 0);
      const usage = await t.engine.inspect(sbx.id);
      assert.ok(usage.pid && usage.pid > 0);
      assert.ok(usage.memoryBytes > 0);
      await t.engine.destroy(sbx.id);
      assert.throws(() => t.engine.get(sbx.id), (e: AgentboxError) => e.code === 'not_found');
    });

    it('keeps writes in the private writable layer on disk and shares nothing with a sibling', async (ctx) => {
      const a = await t.engine.run({ template: 'busybox', runtime });
      destroyAfter(ctx, t.engine, a.id);
      const b = await t.engine.run({ template: 'busybox', runtime });
      destroyAfter(ctx, t.engine, b.id);
      await sh(t.engine, a.id, 'echo secret > /home/user/note && sleep 1000 >/dev/null 2>&1 &');
      assert.equal(await sh(t.engine, b.id, 'cat /home/user/note 2>/dev/null || echo missing'), 'missing');
      const psB = await sh(t.engine, b.id, 'ps -o args');
      assert.doesNotMatch(psB, /^sleep 1000/m, 'b must not see a\'s processes');
      assert.ok((await t.engine.inspect(a.id)).disk!.usedBytes > 0);
    });
  });
}

describe('bad input', () => {
  it('refuses an unknown template, runtime, bad limits and bad env without leaving anything behind', async (ctx) => {
    const before = t.engine.list().length;
    await assert.rejects(t.engine.run({ template: 'nope' }), (e: AgentboxError) => e.code === 'not_found');
    await assert.rejects(t.engine.run({ template: 'busybox', runtime: 'microvm' as never }), (e: AgentboxError) => e.code === 'not_supported');
    await assert.rejects(t.engine.run({ template: 'busybox', limits: { memoryMiB: 1 } }), (e: AgentboxError) => e.code === 'invalid_argument');
    await assert.rejects(t.engine.run({ template: 'busybox', limits: { cpu: -1 } }), (e: AgentboxError) => e.code === 'invalid_argument');
    await assert.rejects(t.engine.run({ template: 'busybox', env: { 'BAD-NAME': 'x' } }), (e: AgentboxError) => e.code === 'invalid_argument');
    await assert.rejects(t.engine.run({ template: 'busybox', id: 'UPPER' }), (e: AgentboxError) => e.code === 'invalid_argument');
    await assert.rejects(t.engine.run({ template: 'busybox', egress: { defaultAction: 'allow', allow: ['not a domain!'], deny: [] } }), (e: AgentboxError) => e.code === 'invalid_argument');
    assert.equal(t.engine.list().length, before);
    await assert.rejects(t.engine.exec('aaaaaaaaaaaaaaaaaaaa', { cmd: ['true'] }), (e: AgentboxError) => e.code === 'not_found');
  });
});

describe('setEnv', () => {
  it('adds sandbox-wide env that later processes see and that survives pause/resume', async (ctx) => {
    const s = await t.engine.run({ template: 'busybox', env: { A: '1' } });
    destroyAfter(ctx, t.engine, s.id);
    await t.engine.setEnv(s.id, { B: '2' });
    assert.equal(await sh(t.engine, s.id, 'echo $A$B'), '12');
    await t.engine.pause(s.id);
    await t.engine.resume(s.id);
    assert.equal(await sh(t.engine, s.id, 'echo $A$B'), '12');
    assert.deepEqual(t.engine.get(s.id).env, { A: '1', B: '2' });
    await assert.rejects(t.engine.setEnv(s.id, { 'BAD NAME': 'x' }), (e: AgentboxError) => e.code === 'invalid_argument');
  });
});
