// Guest injection into template pods (pure; the pod spec is also accepted by the API server in
// the warm-pool tests when the annotation is set).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { guestEntrypoint, injectGuest } from '../../src/k8s/extensions/guest-injection.ts';

describe('guest injection', () => {
  const spec = { containers: [{ name: 'main', image: 'python:3.12-slim', command: ['python'], args: ['-m', 'http.server'] }] };

  it('leaves pods alone without the annotation', () => {
    assert.equal(injectGuest(spec, {}), spec);
  });

  it('adds the init container, emptyDir, entrypoint, config and ports', () => {
    const out = injectGuest(spec, { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' });
    assert.equal(out.initContainers?.[0]?.name, 'agentbox-guest-install');
    assert.equal(out.initContainers?.[0]?.image, 'agentbox/guest:0.1.0');
    assert.deepEqual(out.volumes, [{ name: 'agentbox-guest', emptyDir: {} }]);
    const main = out.containers[0]!;
    assert.deepEqual(main.command, guestEntrypoint());
    assert.equal(main.args, undefined);
    assert.deepEqual(main.env, [{ name: 'AGENTBOX_GUEST_CONFIG', value: '/opt/agentbox/config.json' }]);
    const cfg = JSON.parse(out.initContainers![0]!.env![0]!.value!) as Record<string, unknown>;
    assert.deepEqual(cfg.start, { cmd: ['python', '-m', 'http.server'] });
    assert.equal(cfg.agentSandboxRuntimePort, 8888);
    assert.deepEqual(main.ports?.map((p) => p.containerPort), [8888, 49983]);
    assert.deepEqual(injectGuest(spec, { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' }), out, 'deterministic');
    assert.equal(injectGuest(out, { 'agentbox.dev/inject-guest': 'x' }), out, 'idempotent');
  });
});
