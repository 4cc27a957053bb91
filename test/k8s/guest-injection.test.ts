// Guest injection into sandbox pods (pure; the operator tests show the API server accepts the pod
// spec, test/security/k8s.test.ts runs a guest with the config from its Secret).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { guestConfigOf, guestEntrypoint, injectGuest } from '../../src/k8s/extensions/guest-injection.ts';

describe('guest injection', () => {
  const spec = { containers: [{ name: 'main', image: 'python:3.12-slim', command: ['python'], args: ['-m', 'http.server'] }] };
  const ann = { 'agentbox.dev/inject-guest': 'agentbox/guest:0.1.0' };

  it('leaves pods alone without the annotation', () => {
    assert.equal(injectGuest(spec, {}, 'sb-agentbox-guest'), spec);
  });

  it('adds the init container, bundle volume, config Secret, entrypoint and ports', () => {
    const out = injectGuest(spec, ann, 'sb-agentbox-guest');
    assert.equal(out.initContainers?.[0]?.name, 'agentbox-guest-install');
    assert.equal(out.initContainers?.[0]?.image, 'agentbox/guest:0.1.0');
    assert.equal(out.initContainers?.[0]?.env, undefined, 'no secret travels in the pod spec');
    assert.deepEqual(out.volumes, [{ name: 'agentbox-guest', emptyDir: {} }, { name: 'agentbox-guest-config', secret: { secretName: 'sb-agentbox-guest' } }]);
    const main = out.containers[0]!;
    assert.deepEqual(main.command, guestEntrypoint());
    assert.equal(main.args, undefined);
    assert.deepEqual(main.env, [{ name: 'AGENTBOX_GUEST_CONFIG', value: '/run/agentbox-guest/config.json' }]);
    assert.deepEqual(main.volumeMounts?.map((m) => [m.mountPath, m.readOnly]), [['/opt/agentbox', true], ['/run/agentbox-guest', true]]);
    assert.deepEqual(guestConfigOf(spec, ann), { port: 49983, agentSandboxRuntimePort: 8888, execdPort: 44772, execdEnvFile: '/opt/opensandbox/.env', start: { cmd: ['python', '-m', 'http.server'] } });
    assert.equal(guestConfigOf(spec, { ...ann, 'agentbox.dev/default-user': 'user' }).defaultUser, 'user', "commands run as the image's user when a caller names none");
    assert.deepEqual(main.ports?.map((p) => p.containerPort), [8888, 49983]);
    assert.deepEqual(injectGuest(spec, ann, 'sb-agentbox-guest'), out, 'deterministic');
    assert.equal(injectGuest(out, { 'agentbox.dev/inject-guest': 'x' }, 'other'), out, 'idempotent');
  });
});
