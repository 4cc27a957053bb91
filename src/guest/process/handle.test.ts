import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PTY_CHUNK, MAX_STD_CHUNK, ProcessHandle, processEnd, type HandleEvent } from './handle.ts';

test('processEnd reads like envd: exit status N, or signal with exitCode -1', () => {
  assert.deepEqual(processEnd(0, null), { exitCode: 0, exited: true, status: 'exit status 0' });
  assert.deepEqual(processEnd(2, null), { exitCode: 2, exited: true, status: 'exit status 2', error: 'exit status 2' });
  assert.deepEqual(processEnd(null, 'SIGKILL'), { exitCode: -1, exited: false, status: 'signal: killed', error: 'signal: killed' });
  assert.equal(processEnd(null, 'SIGWINCH').status, 'signal: SIGWINCH');
});

test('output is split into protocol-sized chunks and end is delivered once', () => {
  const driver = { pid: 1, writeStdin() {}, closeStdin() {}, kill() {} };
  const h = new ProcessHandle(driver, { cmd: 'x', args: [], envs: {} }, false);
  const events: HandleEvent[] = [];
  h.subscribe((e) => events.push(e));
  h.emitData('stdout', new Uint8Array(MAX_STD_CHUNK * 2 + 1));
  h.emitData('pty', new Uint8Array(MAX_PTY_CHUNK + 1));
  h.finish(processEnd(0, null));
  h.finish(processEnd(1, null));
  const sizes = events.flatMap((e) => (e.type === 'data' ? [`${e.kind}:${e.data.length}`] : [e.type]));
  assert.deepEqual(sizes, [`stdout:${MAX_STD_CHUNK}`, `stdout:${MAX_STD_CHUNK}`, 'stdout:1', `pty:${MAX_PTY_CHUNK}`, 'pty:1', 'end']);
});
