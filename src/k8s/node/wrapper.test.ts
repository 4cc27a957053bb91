// The runsc wrapper's decision, run as the real sh script. runsc itself is a stub here: a real
// `start` or `restore` needs a created gVisor sandbox (test/k8s/hibernation-real-node.test.ts
// runs the wrapper under the node's real shim); the stub records its argv and answers `state`
// with the bundle, as runsc does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GRANTS_DIR, grantPath, renderWrapper } from './wrapper.ts';

describe('runsc wrapper', () => {
  let dir = '';
  let wrapper = '';
  let snapshots = '';
  let bundle = '';
  const globals = ['--root=/run/runsc/k8s.io', '--log=/b/log.json', '--log-format=json', '--platform=systrap'];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'abx-wrap-'));
    snapshots = join(dir, 'snapshots');
    bundle = join(dir, 'bundle');
    mkdirSync(join(snapshots, 'ns1', 'snap1'), { recursive: true });
    mkdirSync(bundle);
    const stub = join(dir, 'runsc');
    writeFileSync(stub, `#!/bin/sh\nfor a; do printf '%s\\n' "$a"; done > ${dir}/argv.$$\nmv ${dir}/argv.$$ ${dir}/argv\n` +
      `for a; do [ "$a" = state ] && printf '{\\n  "id": "x",\\n  "bundle": "${bundle}",\\n  "status": "created"\\n}\\n'; done\nexit 0\n`);
    chmodSync(stub, 0o755);
    wrapper = join(dir, 'runsc-wrapper');
    writeFileSync(wrapper, renderWrapper({ runsc: stub, snapshots }));
    chmodSync(wrapper, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the wrapper with a bundle whose config.json carries `annotations`; returns the real runsc's argv. */
  const run = (args: string[], annotations: Record<string, string> = {}) => {
    // containerd writes the OCI spec as one line of compact JSON.
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.1.0', annotations }));
    const r = spawnSync(wrapper, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return { argv: readFileSync(join(dir, 'argv'), 'utf8').trimEnd().split('\n'), stderr: r.stderr };
  };
  const grant = (snapshotDir: string, namespace: string, name: string) => {
    const path = grantPath(snapshotDir, namespace, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  };
  const pod = (restoreFrom: string, name = 'sb1') => ({
    'io.kubernetes.cri.sandbox-namespace': 'ns1', 'io.kubernetes.cri.sandbox-name': name,
    'io.kubernetes.cri.container-name': 'main', 'agentbox.dev/restore-from': restoreFrom,
  });

  it('passes every call but start through unchanged', () => {
    for (const args of [['--root=/r', 'events', '--stats', 'abc'], ['--root=/r', 'create', '--bundle', '/b', 'abc'], ['--version'], ['--root=/r', 'kill', '--all', 'abc', '9']]) {
      assert.deepEqual(run(args, pod(join(snapshots, 'ns1', 'snap1'))).argv, args);
    }
  });

  it('starts a container without the annotation', () => {
    assert.deepEqual(run([...globals, 'start', 'c1'], { 'io.kubernetes.cri.sandbox-name': 'sb1' }).argv, [...globals, 'start', 'c1']);
  });

  it('restores every container whose pod was granted the snapshot, several pods from one snapshot, with the same global flags', () => {
    const snap = join(snapshots, 'ns1', 'snap1');
    grant(snap, 'ns1', 'sb1');
    grant(snap, 'ns1', 'sb2.member');
    for (const name of ['sb1', 'sb2.member']) {
      assert.deepEqual(run([...globals, 'start', 'c1'], pod(snap, name)).argv,
        [...globals, 'restore', '--detach', '--image-path', join(snap, 'images'), 'c1']);
    }
    rmSync(join(snap, GRANTS_DIR), { recursive: true });
  });

  it('starts fresh, saying why, when the grant is for another pod or missing', () => {
    const snap = join(snapshots, 'ns1', 'snap1');
    grant(snap, 'ns1', 'other');
    const r = run([...globals, 'start', 'c1'], pod(snap));
    assert.deepEqual(r.argv, [...globals, 'start', 'c1']);
    assert.match(r.stderr, /no restore grant for pod ns1\/sb1/);
    rmSync(join(snap, GRANTS_DIR), { recursive: true });
    assert.deepEqual(run([...globals, 'start', 'c1'], pod(snap)).argv, [...globals, 'start', 'c1']);
  });

  it('never takes a pod name that walks out of the grants directory for a grant', () => {
    const snap = join(snapshots, 'ns1', 'snap1');
    // A file that `../../x` from the grants directory would reach, were the name used as a path.
    grant(snap, 'ns1', 'sb1');
    for (const name of ['../ns1/sb1', 'sb1/../sb1', 'SB1']) {
      const r = run([...globals, 'start', 'c1'], pod(snap, name));
      assert.deepEqual(r.argv, [...globals, 'start', 'c1'], name);
      assert.match(r.stderr, /no restore grant/);
    }
    rmSync(join(snap, GRANTS_DIR), { recursive: true });
  });

  it('never restores from outside the snapshots directory', () => {
    const outside = join(dir, 'elsewhere');
    mkdirSync(outside, { recursive: true });
    grant(outside, 'ns1', 'sb1');
    grant(join(snapshots, 'ns1', 'snap1'), 'ns1', 'sb1');
    for (const from of [outside, `${snapshots}/../elsewhere`, `${snapshots}/ns1/snap1;touch x`]) {
      const r = run([...globals, 'start', 'c1'], pod(from));
      assert.deepEqual(r.argv, [...globals, 'start', 'c1'], from);
      assert.match(r.stderr, /a path outside/);
    }
  });

  it('refuses to render with a path the script could not quote', () => {
    assert.throws(() => renderWrapper({ runsc: '/usr/bin/runsc; rm -rf /', snapshots }), /absolute path/);
    assert.throws(() => renderWrapper({ runsc: 'runsc', snapshots }), /absolute path/);
  });
});
