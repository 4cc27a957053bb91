// NodeSnapshots against a stand-in runsc (a shell script: `list` names one pod's sandbox and
// container, `checkpoint` logs when it starts and ends): checkpoints of one sandbox never overlap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeSnapshots } from './snapshots.ts';

test('two checkpoints of one sandbox asked at once run one after the other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'node-snapshots-'));
  const log = join(dir, 'runsc.log');
  const pod = { 'io.kubernetes.cri.sandbox-namespace': 'ns', 'io.kubernetes.cri.sandbox-name': 'golden', 'io.kubernetes.cri.sandbox-uid': 'u1' };
  const list = JSON.stringify([
    { id: 'sb1', status: 'running', pid: 0, bundle: '/b', annotations: { ...pod, 'io.kubernetes.cri.container-type': 'sandbox' } },
    { id: 'c1', status: 'running', pid: 0, bundle: '/c', annotations: { ...pod, 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'main', 'io.kubernetes.cri.image-name': 'img' } },
  ]);
  const runsc = join(dir, 'runsc');
  // Arguments: --root ROOT list|checkpoint [--leave-running] --image-path PATH ID.
  writeFileSync(runsc, `#!/bin/sh
case "$3" in
  list) echo '${list}' ;;
  checkpoint) echo "start $*" >> ${log}; sleep 0.3; for a; do img="$prev"; prev="$a"; [ "$img" = --image-path ] && echo state > "$a/checkpoint.img"; done; echo end >> ${log} ;;
esac
`);
  chmodSync(runsc, 0o755);
  const snapshots = new NodeSnapshots({ node: 'n1', runsc: { binary: runsc, root: join(dir, 'root') }, dir: join(dir, 'snapshots') });
  const req = { namespace: 'ns', name: 'golden', uid: 'u1', leaveRunning: true };
  const [a, b] = await Promise.all([snapshots.checkpoint(req), snapshots.checkpoint(req)]);
  assert.notEqual(a.snapshotId, b.snapshotId);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
  assert.deepEqual(lines, ['start', 'end', 'start', 'end'], 'the second checkpoint starts once the first has ended');
});
