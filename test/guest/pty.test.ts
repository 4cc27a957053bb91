// test-file-guests: typescript native
// PTY sessions (the SDK's pty.create): Start with pty{size}, output as data.pty, input, Update resize.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import type { StartResponse } from '../../src/guest/gen/process_pb.ts';
import { startGuest, type RunningGuest } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

let g: RunningGuest;
before(async () => { g = await startGuest(); });
after(async () => { await g?.stop(); });

test('stty size, typed input and resize through a PTY', async () => {
  const stream = g.client.process.start({
    process: { cmd: '/bin/sh', args: [], envs: { TERM: 'xterm-256color', PS1: '$ ' } },
    pty: { size: { cols: 100, rows: 30 } },
    tag: 'pty',
  });
  let output = '';
  let pid = 0;
  let end: unknown;
  const kinds = new Set<string>();
  const reading = (async () => {
    for await (const r of stream as AsyncIterable<StartResponse>) {
      const ev = r.event!.event;
      if (ev.case === 'start') pid = ev.value.pid;
      if (ev.case === 'data') { kinds.add(ev.value.output.case!); output += Buffer.from(ev.value.output.value!).toString(); }
      if (ev.case === 'end') end = ev.value;
    }
  })();
  await waitFor('the PTY process to start', () => pid > 0);
  const sel = { selector: { case: 'pid' as const, value: pid } };
  const type = (s: string) => g.client.process.sendInput({ process: sel, input: { input: { case: 'pty', value: Buffer.from(s) } } });

  await type('stty size\n');
  await waitFor("stty's first size, 30 100", () => output.includes('30 100'));
  await g.client.process.update({ process: sel, pty: { size: { cols: 120, rows: 40 } } });
  await type('stty size; echo "mark-$((6*7))"\n');
  await waitFor('the resized 40 120 and mark-42', () => output.includes('40 120') && output.includes('mark-42'));
  await type('tty\n');
  await waitFor('a /dev/pts/N tty name', () => /\/dev\/pts\/\d+/.test(output));
  await type('exit 5\n');
  await reading;
  assert.deepEqual([...kinds], ['pty']);
  assert.equal((end as { exitCode: number }).exitCode, 5);
});

test('CloseStdin is refused for a PTY and Update for a non-PTY process', async () => {
  const started = g.client.process.start({ process: { cmd: 'sleep', args: ['5'] }, pty: { size: { cols: 80, rows: 24 } }, tag: 'pty-sleep' });
  const it = started[Symbol.asyncIterator]();
  const pid = ((await it.next()).value as StartResponse).event!.event.value as { pid: number };
  const sel = { selector: { case: 'pid' as const, value: pid.pid } };
  await assert.rejects(g.client.process.closeStdin({ process: sel }), (e: unknown) => ConnectError.from(e).code === Code.InvalidArgument);

  const plain = g.client.process.start({ process: { cmd: 'sleep', args: ['5'] }, stdin: false, tag: 'plain-sleep' });
  const it2 = plain[Symbol.asyncIterator]();
  const pid2 = ((await it2.next()).value as StartResponse).event!.event.value as { pid: number };
  const sel2 = { selector: { case: 'pid' as const, value: pid2.pid } };
  await assert.rejects(g.client.process.update({ process: sel2, pty: { size: { cols: 10, rows: 10 } } }),
    (e: unknown) => ConnectError.from(e).code === Code.InvalidArgument);
  for (const s of [sel, sel2]) await g.client.process.sendSignal({ process: s, signal: 9 });
  for (const i of [it, it2]) for (let r = await i.next(); !r.done; r = await i.next()) { /* drain */ }
});
