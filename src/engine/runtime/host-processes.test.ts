// Which processes recovery stops after a crash: the runtime's command-line tool working on this
// engine's state, never the sandboxes themselves, another engine's commands or a checkpoint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processesNaming, strayRuntimeCommands, type HostProcess } from './host-processes.ts';

const RUNSC = '/root/.cache/agentbox/bin/runsc';
const ROOT = '/var/lib/agentbox/run/gvisor';
const procs: HostProcess[] = [
  { pid: 10, argv: [RUNSC, '--root', ROOT, '--platform=systrap', 'run', '--detach', '--bundle', '/b', 'sbx1'] },
  { pid: 11, argv: [RUNSC, `--root=${ROOT}`, 'restore', '--detach', '--image-path', '/i', 'sbx2'] },
  { pid: 12, argv: [RUNSC, '--root', ROOT, 'checkpoint', '--image-path', '/var/lib/agentbox/sandboxes/sbx3/checkpoint', 'sbx3'] },
  { pid: 13, argv: ['runsc-sandbox', `--root=${ROOT}`, 'boot', '--bundle=/b', 'sbx4'] },
  { pid: 14, argv: ['runsc-gofer', `--root=${ROOT}`, 'gofer', '--bundle', '/b', 'sbx4'] },
  { pid: 15, argv: [RUNSC, '--root', '/tmp/other-engine/run/gvisor', 'run', '--detach', 'sbx5'] },
  { pid: 16, argv: ['/usr/sbin/runc', '--root', ROOT, 'run', 'sbx6'] },
];

test('runtime commands of this engine are stray; sandboxes, checkpoints and other engines are not', () => {
  assert.deepEqual(strayRuntimeCommands(RUNSC, ROOT, procs), [10, 11]);
});

test('a checkpoint is found by the image directory it names', () => {
  assert.deepEqual(processesNaming('/var/lib/agentbox/sandboxes/sbx3/checkpoint', procs), [12]);
  assert.deepEqual(processesNaming('/var/lib/agentbox/sandboxes/sbx9/checkpoint', procs), []);
});
