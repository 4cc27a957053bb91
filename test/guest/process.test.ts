// test-file-guests: typescript native
// process.Process driven through a Connect JSON client (as the E2B SDK does) against a real guest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Code, ConnectError } from '@connectrpc/connect';
import { Signal, type ConnectResponse, type StartResponse } from '../../src/guest/gen/process_pb.ts';
import { userHeader } from '../../src/api/envd-protocol.ts';
import { startGuest, type RunningGuest } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

let g: RunningGuest;
before(async () => { g = await startGuest(); });
after(async () => { await g?.stop(); });

const pidSel = (pid: number) => ({ selector: { case: 'pid' as const, value: pid } });

async function collect(stream: AsyncIterable<StartResponse | ConnectResponse>) {
  const events: NonNullable<StartResponse['event']>['event'][] = [];
  for await (const r of stream) events.push(r.event!.event);
  const text = (k: 'stdout' | 'stderr' | 'pty') => Buffer.concat(events.flatMap((e) =>
    e.case === 'data' && e.value.output.case === k ? [e.value.output.value] : [])).toString();
  const end = events.find((e) => e.case === 'end')?.value as { exitCode: number; exited: boolean; status: string; error?: string } | undefined;
  return { events, stdout: text('stdout'), stderr: text('stderr'), end };
}

describe('Start', () => {
  test('first frame is start{pid}, then output, then exactly one end', async () => {
    const r = await collect(g.client.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'echo out; echo err >&2; exit 3'] }, stdin: false }));
    assert.equal(r.events[0]!.case, 'start');
    assert.ok((r.events[0]!.value as { pid: number }).pid > 0);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.events.filter((e) => e.case === 'end').length, 1);
    assert.equal(r.events.at(-1)!.case, 'end');
    assert.deepEqual(r.end, { $typeName: 'process.ProcessEvent.EndEvent', exitCode: 3, exited: true, status: 'exit status 3', error: 'exit status 3' });
  });

  test('a signalled process ends with exitCode -1 and a Go-style status', async () => {
    const r = await collect(g.client.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'kill -9 $$'] }, stdin: false }));
    assert.equal(r.end?.exitCode, -1);
    assert.equal(r.end?.exited, false);
    assert.equal(r.end?.status, 'signal: killed');
  });

  test('env is PATH/HOME/USER/LOGNAME + sandbox env + request envs (request wins)', async () => {
    const r = await collect(g.client.process.start({
      process: { cmd: '/bin/sh', args: ['-c', 'echo "$HOME|$USER|$LOGNAME|$SANDBOX_WIDE|$MINE"; test -n "$PATH"'], envs: { MINE: 'x', SANDBOX_WIDE: 'overridden' } },
      stdin: false,
    }));
    assert.equal(r.stdout, '/root|root|root|overridden|x\n');
    assert.equal(r.end?.exitCode, 0);
  });

  test('cwd resolves against home, expands ~, and must exist', async () => {
    let r = await collect(g.client.process.start({ process: { cmd: 'pwd', args: [], cwd: '~' }, stdin: false }));
    assert.equal(r.stdout, '/root\n');
    r = await collect(g.client.process.start({ process: { cmd: 'pwd', args: [], cwd: '/tmp' }, stdin: false }));
    assert.equal(r.stdout, '/tmp\n');
    r = await collect(g.client.process.start({ process: { cmd: 'pwd', args: [] }, stdin: false }));
    assert.equal(r.stdout, '/root\n');
    await assert.rejects(collect(g.client.process.start({ process: { cmd: 'pwd', args: [], cwd: '/does/not/exist' } })),
      (e: unknown) => ConnectError.from(e).code === Code.InvalidArgument);
  });

  test('a missing program is InvalidArgument', async () => {
    await assert.rejects(collect(g.client.process.start({ process: { cmd: '/no/such/program', args: [] } })),
      (e: unknown) => ConnectError.from(e).code === Code.InvalidArgument);
  });

  test('output arrives in chunks of at most 32 KiB', async () => {
    const r = await collect(g.client.process.start({ process: { cmd: 'head', args: ['-c', '300000', '/dev/zero'] }, stdin: false }));
    const sizes = r.events.flatMap((e) => (e.case === 'data' ? [e.value.output.value!.length] : []));
    assert.equal(sizes.reduce((a, b) => a + b, 0), 300000);
    assert.ok(Math.max(...sizes) <= 32 * 1024, `largest chunk ${Math.max(...sizes)}`);
  });

  test('Keepalive-Ping-Interval produces keepalive frames while idle', async () => {
    const r = await collect(g.client.process.start(
      { process: { cmd: 'sleep', args: ['1.3'] }, stdin: false },
      { headers: { 'keepalive-ping-interval': '1' } },
    ));
    assert.ok(r.events.some((e) => e.case === 'keepalive'));
    assert.equal(r.end?.exitCode, 0);
  });

  test('Connect-Timeout-Ms elapsing kills the process', async () => {
    const stream = g.client.process.start({ process: { cmd: 'sleep', args: ['30'] }, stdin: false, tag: 'deadline' }, { timeoutMs: 400 });
    let pid = 0;
    await assert.rejects((async () => {
      for await (const r of stream) if (r.event?.event.case === 'start') pid = r.event.event.value.pid;
    })(), (e: unknown) => ConnectError.from(e).code === Code.DeadlineExceeded);
    assert.ok(pid > 0);
    await waitFor(`process ${pid} to be gone`, () => !processAlive(pid));
  });

  test('a client that disconnects does not kill the process', async () => {
    const abort = new AbortController();
    const stream = g.client.process.start({ process: { cmd: 'sleep', args: ['30'] }, stdin: false, tag: 'survivor' }, { signal: abort.signal });
    let pid = 0;
    await assert.rejects((async () => {
      for await (const r of stream) {
        if (r.event?.event.case === 'start') { pid = r.event.event.value.pid; abort.abort(); }
      }
    })());
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(processAlive(pid), 'process survived the disconnect');
    const listed = await g.client.process.list({});
    assert.ok(listed.processes.some((p) => p.pid === pid && p.tag === 'survivor'));
    await g.client.process.sendSignal({ process: pidSel(pid), signal: Signal.SIGKILL });
    await waitFor(`process ${pid} to be gone`, () => !processAlive(pid));
  });
});

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  // A zombie still answers kill(0); it is dead for our purposes.
  try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

describe('Connect, List, SendInput, CloseStdin, SendSignal', () => {
  test('attach by tag sees live output and the end; stdin round trip', async () => {
    const started = g.client.process.start({ process: { cmd: 'cat', args: [] }, stdin: true, tag: 'echoer' });
    const it = started[Symbol.asyncIterator]();
    const first = (await it.next()).value as StartResponse;
    assert.equal(first.event?.event.case, 'start');
    const pid = (first.event!.event.value as { pid: number }).pid;

    const listed = await g.client.process.list({});
    const info = listed.processes.find((p) => p.pid === pid);
    assert.equal(info?.tag, 'echoer');
    assert.equal(info?.config?.cmd, 'cat');

    const attached = collect(g.client.process.connect({ process: { selector: { case: 'tag', value: 'echoer' } } }));
    await new Promise((r) => setTimeout(r, 100));
    await g.client.process.sendInput({ process: pidSel(pid), input: { input: { case: 'stdin', value: Buffer.from('ping\n') } } });
    await g.client.process.closeStdin({ process: pidSel(pid) });
    const a = await attached;
    assert.equal(a.events[0]!.case, 'start');
    assert.equal(a.stdout, 'ping\n');
    assert.equal(a.end?.exitCode, 0);
    // Drain the original stream too.
    for (let r = await it.next(); !r.done; r = await it.next()) { /* drain */ }

    // A recently exited process returns its end to a late Connect.
    const late = await collect(g.client.process.connect({ process: pidSel(pid) }));
    assert.deepEqual(late.events.map((e) => e.case), ['start', 'end']);
    assert.equal(late.end?.exitCode, 0);
  });

  test('StreamInput feeds stdin as a client stream', async () => {
    const started = collect(g.client.process.start({ process: { cmd: 'cat', args: [] }, stdin: true, tag: 'streamed' }));
    await waitFor("the 'streamed' process in List", async () => (await g.client.process.list({})).processes.some((p) => p.tag === 'streamed'));
    const pid = (await g.client.process.list({})).processes.find((p) => p.tag === 'streamed')!.pid;
    async function* input() {
      yield { event: { case: 'start' as const, value: { process: pidSel(pid) } } };
      yield { event: { case: 'data' as const, value: { input: { input: { case: 'stdin' as const, value: Buffer.from('via stream\n') } } } } };
    }
    await g.client.process.streamInput(input());
    await g.client.process.closeStdin({ process: pidSel(pid) });
    const r = await started;
    assert.equal(r.stdout, 'via stream\n');
  });

  test('SendSignal SIGTERM ends a process; unknown pids are NotFound', async () => {
    const started = collect(g.client.process.start({ process: { cmd: 'sleep', args: ['30'] }, stdin: false, tag: 'term-me' }));
    await waitFor("the 'term-me' process in List", async () => (await g.client.process.list({})).processes.some((p) => p.tag === 'term-me'));
    await g.client.process.sendSignal({ process: { selector: { case: 'tag', value: 'term-me' } }, signal: Signal.SIGTERM });
    const r = await started;
    assert.equal(r.end?.status, 'signal: terminated');
    await assert.rejects(g.client.process.sendSignal({ process: pidSel(999999), signal: Signal.SIGKILL }),
      (e: unknown) => ConnectError.from(e).code === Code.NotFound);
    await assert.rejects(collect(g.client.process.connect({ process: pidSel(999999) })),
      (e: unknown) => ConnectError.from(e).code === Code.NotFound);
  });

  test('SendSignal SIGKILL answers once the process is gone: an immediate second kill is NotFound', async () => {
    const started = collect(g.client.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'sleep 60 & sleep 60'] }, stdin: false, tag: 'kill-twice' }));
    await waitFor("the 'kill-twice' process in List", async () => (await g.client.process.list({})).processes.some((p) => p.tag === 'kill-twice'));
    const sel = { selector: { case: 'tag' as const, value: 'kill-twice' } };
    await g.client.process.sendSignal({ process: sel, signal: Signal.SIGKILL });
    await assert.rejects(g.client.process.sendSignal({ process: sel, signal: Signal.SIGKILL }),
      (e: unknown) => ConnectError.from(e).code === Code.NotFound);
    assert.equal((await started).end?.status, 'signal: killed');
    assert.equal((await g.client.process.list({})).processes.some((p) => p.tag === 'kill-twice'), false);
  });

  test('signals reach the whole process group', async () => {
    const pidFile = `${g.dir}/group-child.pid`;
    const started = collect(g.client.process.start({ process: { cmd: '/bin/sh', args: ['-c', `sleep 30 & echo $! > ${pidFile}; wait`] }, stdin: false, tag: 'group' }));
    // The child is running once its pid is written: only then does the signal have a group to reach.
    const child = await waitFor('the group\'s child pid', () => { try { return Number(readFileSync(pidFile, 'utf8').trim()) || undefined; } catch { return undefined; } });
    assert.ok(processAlive(child));
    await g.client.process.sendSignal({ process: { selector: { case: 'tag', value: 'group' } }, signal: Signal.SIGKILL });
    assert.equal((await started).end?.status, 'signal: killed');
    await waitFor(`the group's child ${child} to be gone`, () => !processAlive(child));
  });
});

describe('user selection', () => {
  test('Basic auth picks the OS user; unknown users are Unauthenticated', async () => {
    const r = await collect(g.client.process.start({ process: { cmd: 'id', args: ['-u'] }, stdin: false }, { headers: userHeader('nobody') }));
    assert.equal(r.stdout.trim(), '65534');
    const home = await collect(g.client.process.start({ process: { cmd: '/bin/sh', args: ['-c', 'echo $USER'] }, stdin: false }, { headers: userHeader('nobody') }));
    assert.equal(home.stdout.trim(), 'nobody');
    await assert.rejects(collect(g.client.process.start({ process: { cmd: 'id', args: [] } }, { headers: userHeader('no-such-user') })),
      (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated);
  });
});
