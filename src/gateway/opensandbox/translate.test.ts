// The OpenSandbox → agentbox translation rules (docs/opensandbox.md), without a server;
// test/opensandbox/lifecycle.test.ts drives them through the SDKs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentboxError } from '../../api/errors.ts';
import { egressOf, openSandboxState, patchRules, recordStates, resourcesOf, rulesOf, templateForImage, withoutTargets } from './translate.ts';

const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof AgentboxError && e.code === 'invalid_argument' && re.test(e.message));

describe('OpenSandbox translations', () => {
  test('an image names a template: registry and library dropped, tag joined unless latest, lowercased', () => {
    assert.equal(templateForImage('python:3.11'), 'python-3.11');
    assert.equal(templateForImage('docker.io/library/ubuntu:latest'), 'ubuntu');
    assert.equal(templateForImage('registry.local:5000/team/Tools:V2'), 'tools-v2');
    assert.equal(templateForImage('opensandbox/code-interpreter:v1.0.1'), 'code-interpreter-v1.0.1');
    assert.equal(templateForImage('base'), 'base');
    assert.equal(templateForImage('debian@sha256:abcd'), 'debian');
  });

  test('resourceLimits become cores and MiB; a bad quantity is refused naming the field, a GPU refused', () => {
    assert.deepEqual(resourcesOf({ cpu: '1', memory: '2Gi', gpu: '0' }), { cpu: 1, memoryMiB: 2048 });
    assert.deepEqual(resourcesOf({}), {});
    refused(() => resourcesOf({ cpu: 'lots' }), /resourceLimits\.cpu 'lots'/);
    refused(() => resourcesOf({ memory: '2GB' }), /resourceLimits\.memory '2GB'/);
    refused(() => resourcesOf({ gpu: '1' }), /no GPU/);
  });

  test('a network policy becomes allow and deny lists, deny by default as in OpenSandbox', () => {
    assert.deepEqual(egressOf({ egress: [{ action: 'allow', target: 'pypi.org' }, { action: 'deny', target: '10.0.0.0/8' }] }),
      { defaultAction: 'deny', allow: ['pypi.org'], deny: ['10.0.0.0/8'] });
    assert.deepEqual(egressOf({ defaultAction: 'allow' }), { defaultAction: 'allow', allow: [], deny: [] });
  });

  test('egress rules read, patch (incoming wins per target) and delete as the egress sidecar does', () => {
    const p = { defaultAction: 'deny' as const, allow: ['pypi.org', 'a.com'], deny: ['10.0.0.0/8'] };
    assert.deepEqual(rulesOf(p), { defaultAction: 'deny', egress: [
      { action: 'allow', target: 'pypi.org' }, { action: 'allow', target: 'a.com' }, { action: 'deny', target: '10.0.0.0/8' },
    ] });
    assert.deepEqual(patchRules(p, [{ action: 'deny', target: 'a.com' }, { action: 'allow', target: 'b.com' }]),
      { defaultAction: 'deny', allow: ['pypi.org', 'b.com'], deny: ['10.0.0.0/8', 'a.com'] });
    assert.deepEqual(withoutTargets(p, ['a.com', '10.0.0.0/8', 'never.set']), { defaultAction: 'deny', allow: ['pypi.org'], deny: [] });
  });

  test('states map both ways; names agentbox never reaches match nothing', () => {
    assert.equal(openSandboxState('creating'), 'Pending');
    assert.equal(openSandboxState('paused'), 'Paused');
    assert.deepEqual(recordStates(['Running', 'paused']).sort(), ['paused', 'running']);
    assert.deepEqual(recordStates(['Pausing', 'Terminated']), []);
  });
});
